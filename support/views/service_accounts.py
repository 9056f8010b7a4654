"""Support staff's pages for the operations app's service accounts: the list, creating
one, rotating its key and revoking it. Keys are made by api/keys.py (which audits every
change); these views only ask and show.

A new key's value is rendered in the answer to the POST that made it and nowhere else:
not in the session, not in a message, not in a redirect. So it exists on one page,
once, and the page is marked no-store so the browser's cache does not keep it either.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.actors import Actor
from api import keys
from api.handoff import InvalidPublicKey
from api.models import Scope, ServiceAccount, ServiceKey
from support.decorators import support_required
from support.forms import RotateForm, ServiceAccountForm

# The create forms already answered in this session: form id -> account id.
CREATED_SESSION_KEY = "support_service_accounts_created"
CREATED_REMEMBERED = 20


def _form(data: Any = None) -> ServiceAccountForm:
    return ServiceAccountForm(data, scope_choices=list(Scope.choices))


def _key_state(key: ServiceKey, now: Any) -> str:
    if key.revoked_at is not None:
        return "Revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "Expired"
    if key.expires_at is not None:
        return "Valid until the overlap ends"
    return "Valid"


def _state(account: ServiceAccount, now: Any) -> tuple[str, str]:
    """(label, Bootstrap tone) of the account as the API treats it."""
    if account.revoked_at is not None:
        return "Revoked", "secondary"
    if account.expires_at is not None and account.expires_at <= now:
        return "Expired", "warning"
    return "Active", "success"


def _rows(accounts: Any) -> list[dict[str, Any]]:
    now = timezone.now()
    labels = dict(Scope.choices)
    rows = []
    for account in accounts:
        state, tone = _state(account, now)
        account_keys = list(account.keys.all())
        used = [key.last_used_at for key in account_keys if key.last_used_at]
        rows.append(
            {
                "account": account,
                "scopes": [labels.get(scope, scope) for scope in account.scopes],
                "tenants": list(account.tenants.all()),
                "state": state,
                "tone": tone,
                "usable": state == "Active",
                "last_used": max(used) if used else None,
                "keys": [
                    {
                        "key": key,
                        "prefix": f"{keys.PREFIX}{key.key_id}_…",
                        "state": _key_state(key, now),
                        "usable": key.is_usable(now),
                    }
                    for key in account_keys
                ],
            }
        )
    return rows


def _key_shown_once(request: HttpRequest, account: ServiceAccount, value: str, **context: Any):
    response = render(
        request,
        "support/service_account_key.html",
        {"account": account, "key_value": value, **context},
    )
    response["Cache-Control"] = "no-store"
    return response


@support_required
def service_account_list(request: HttpRequest) -> HttpResponse:
    return render(request, "support/service_account_list.html", {"rows": _rows(keys.accounts())})


@support_required
def service_account_create(request: HttpRequest) -> HttpResponse:
    form = _form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        form_id = str(data["form_id"] or "")
        created = request.session.get(CREATED_SESSION_KEY, {})
        if form_id and form_id in created:
            account = ServiceAccount.objects.filter(pk=created[form_id]).first()
            if account is not None:
                messages.info(
                    request,
                    f"{account.name} was already created and its key shown once. "
                    "If the key was not copied, rotate it.",
                )
                return redirect("support:service-accounts")
        try:
            issued = keys.create_account(
                name=data["name"],
                scopes=data["scopes"],
                tenants=data["tenants"],
                expires_at=timezone.now() + timedelta(days=data["expires_in_days"]),
                public_jwk=data["public_jwk"],
                actor=Actor.of(request),
            )
        except InvalidPublicKey as error:
            form.add_error("public_jwk", str(error))
        except keys.ServiceKeyError as error:
            form.add_error(None, str(error))
        else:
            if form_id:
                # Ids only (never the key), the newest few.
                recent = list(created.items())[-(CREATED_REMEMBERED - 1) :]
                request.session[CREATED_SESSION_KEY] = {
                    **dict(recent),
                    form_id: str(issued.key.account_id),
                }
            return _key_shown_once(request, issued.key.account, issued.value, created=True)
    if "public_jwk" in form.errors:
        # Never echo a refused key back: it may be a private key pasted by mistake.
        shown = request.POST.copy()
        shown["public_jwk"] = ""
        form.data = shown
    status = 400 if form.errors else 200
    return render(request, "support/service_account_create.html", {"form": form}, status=status)


@support_required
def service_account_rotate(request: HttpRequest, account_id: str) -> HttpResponse:
    account = get_object_or_404(ServiceAccount, pk=account_id)
    if account.revoked_at is not None:
        messages.error(request, f"{account.name} is revoked: a revoked account gets no new key.")
        return redirect("support:service-accounts")
    if not account.is_usable():
        # A new key of an expired account would be refused all the same.
        messages.error(
            request, f"{account.name} has expired: create a new service account instead."
        )
        return redirect("support:service-accounts")
    form = RotateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        hours = form.cleaned_data["overlap_hours"]
        old_valid_until = timezone.now() + timedelta(hours=hours)
        issued = keys.rotate(account, old_valid_until=old_valid_until, actor=Actor.of(request))
        return _key_shown_once(
            request, account, issued.value, old_valid_until=old_valid_until, overlap=hours
        )
    status = 400 if form.errors else 200
    return render(
        request,
        "support/service_account_rotate.html",
        {"account": account, "form": form},
        status=status,
    )


@support_required
def service_account_revoke(request: HttpRequest, account_id: str) -> HttpResponse:
    """GET asks first; POST revokes the account, and so every key of it, at once."""
    account = get_object_or_404(ServiceAccount, pk=account_id)
    if request.method == "POST":
        if keys.revoke_account(account, actor=Actor.of(request)):
            messages.success(request, f"{account.name} is revoked: its keys no longer work.")
        else:
            messages.info(request, f"{account.name} was already revoked.")
        return redirect("support:service-accounts")
    return render(
        request,
        "support/service_account_revoke.html",
        {"account": account, "key": None, "revoked": account.revoked_at is not None},
    )


@support_required
def service_key_revoke(request: HttpRequest, account_id: str, key_id: str) -> HttpResponse:
    """One key only (a leaked one, say), the account's other keys untouched."""
    key = get_object_or_404(
        ServiceKey.objects.select_related("account"), account_id=account_id, pk=key_id
    )
    if request.method == "POST":
        if keys.revoke_key(key, actor=Actor.of(request)):
            messages.success(request, f"The key {keys.PREFIX}{key.key_id}_… no longer works.")
        else:
            messages.info(request, "That key was already revoked.")
        return redirect("support:service-accounts")
    return render(
        request,
        "support/service_account_revoke.html",
        {
            "account": key.account,
            "key": key,
            "prefix": f"{keys.PREFIX}{key.key_id}_…",
            "revoked": key.revoked_at is not None,
        },
    )
