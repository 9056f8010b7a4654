"""Step 5: the mailboxes the operations app uses (one or more per tenant)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from onboarding import wizard
from onboarding.forms import MailboxForm
from onboarding.models import Mailbox
from onboarding.views.tenancy import WizardPage, posted, step_url, wizard_step


@wizard_step(5)
def mailbox(request: HttpRequest, page: WizardPage) -> HttpResponse:
    """The list of mailboxes, and a form to add one."""
    form = MailboxForm(posted(request), tenant=page.tenant, mailbox=None)
    if request.method == "POST" and form.is_valid():
        added = Mailbox(tenant=page.tenant)
        _save(request, form, added)
        messages.success(request, f"{added.address} added.")
        return page.go_to(5)
    mailboxes = page.tenant.mailboxes.order_by("address")
    return render(request, "onboarding/mailbox.html", page.context(form=form, mailboxes=mailboxes))


@wizard_step(5)
def mailbox_edit(request: HttpRequest, page: WizardPage, mailbox_id: object) -> HttpResponse:
    existing = get_object_or_404(Mailbox, pk=mailbox_id, tenant=page.tenant)
    form = MailboxForm(posted(request), tenant=page.tenant, mailbox=existing)
    if request.method == "POST" and form.is_valid():
        _save(request, form, existing)
        messages.success(request, f"{existing.address} saved.")
        return page.go_to(5)
    return render(
        request, "onboarding/mailbox_edit.html", page.context(form=form, mailbox=existing)
    )


@wizard_step(5)
@require_POST
def mailbox_remove(request: HttpRequest, page: WizardPage, mailbox_id: object) -> HttpResponse:
    existing = get_object_or_404(Mailbox, pk=mailbox_id, tenant=page.tenant)
    wizard.remove_mailbox(existing, actor=request.user, request=request)  # type: ignore[arg-type]
    messages.success(request, f"{existing.address} removed.")
    wizard.record_progress(page.tenant)
    return redirect(step_url(page.tenant, wizard.STEP_BY_NUMBER[5]))


def _save(request: HttpRequest, form: MailboxForm, target: Mailbox) -> None:
    wizard.save_mailbox(
        target,
        address=form.cleaned_data["address"],
        password=form.cleaned_data["password"] or None,
        forget=form.cleaned_data.get("forget_password", False),
        actor=request.user,  # type: ignore[arg-type]
        request=request,
    )
