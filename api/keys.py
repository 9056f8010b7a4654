"""Service keys: create, verify, rotate, revoke, list. The support dashboard and
`manage.py create_service_key` call these; nothing else writes keys.

A key reads `mbp_live_<key id>_<secret>`: the fixed prefix lets secret scanners (and
the log redaction) recognise a leaked one; the key id (12 lowercase letters and
digits, public) finds its row; the secret is 43 letters and digits from `secrets`,
about 256 bits. Only SHA-256(key id, secret) is stored.

Why no slow hash (bcrypt, Argon2): those exist to make guessing a *low-entropy*
password expensive. Nobody guesses 256 random bits, slow hash or not, so a stolen hash
table is no shortcut to a key; a fast hash keeps every API call cheap (a slow one
would cost tens of milliseconds per call, against the 500 tokens/s target). The
comparison is constant-time all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.actors import SYSTEM, Actor
from api import memo
from api.handoff import public_key
from api.models import SCOPES, ServiceAccount, ServiceKey
from onboarding import changes
from onboarding.audit import audit_record
from onboarding.models import Tenant

PREFIX = "mbp_live_"
_ALNUM = string.ascii_letters + string.digits
_KEY_ID_ALPHABET = string.ascii_lowercase + string.digits
KEY_ID_LENGTH = 12
SECRET_LENGTH = 43
KEY_PATTERN = re.compile(
    rf"^{PREFIX}(?P<key_id>[a-z0-9]{{{KEY_ID_LENGTH}}})_(?P<secret>[A-Za-z0-9]{{{SECRET_LENGTH}}})$"
)
# Last-used is written at most this often per key: a write per call would double the
# database work of a token call for a fact nobody needs to the second.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Compared against when a key id is unknown, so that the answer takes as long as for
# a known id with a wrong secret.
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()
_KEYS = memo.Memo()


class ServiceKeyError(ValueError):
    """A key that cannot be created as asked (unknown scope, say)."""


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `value` is shown once and never again."""

    key: ServiceKey
    value: str


def secret_hash(key_id: str, secret: str) -> str:
    return hashlib.sha256(f"{key_id}:{secret}".encode()).hexdigest()


def _new_value() -> tuple[str, str, str]:
    key_id = "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))
    secret = "".join(secrets.choice(_ALNUM) for _ in range(SECRET_LENGTH))
    return key_id, secret, f"{PREFIX}{key_id}_{secret}"


def _issue(account: ServiceAccount, actor: Actor, expires_at: datetime | None = None) -> IssuedKey:
    key_id, secret, value = _new_value()
    key = ServiceKey.objects.create(
        account=account,
        key_id=key_id,
        secret_hash=secret_hash(key_id, secret),
        created_by=actor.user,
        expires_at=expires_at,
    )
    return IssuedKey(key, value)


def check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    unknown = sorted(set(scopes) - SCOPES)
    if unknown:
        raise ServiceKeyError(
            f"Unknown scope: {', '.join(unknown)}. Known: {', '.join(sorted(SCOPES))}."
        )
    return sorted(set(scopes))


def create_account(
    *,
    name: str,
    scopes: list[str] | tuple[str, ...],
    tenants: list[Tenant] | tuple[Tenant, ...] = (),
    expires_at: datetime | None = None,
    public_jwk: dict[str, Any] | None = None,
    actor: Actor = SYSTEM,
) -> IssuedKey:
    """A new service account with its first key (returned once, with its value)."""
    if not name.strip():
        raise ServiceKeyError("A service account needs a name.")
    checked = check_scopes(scopes)
    if public_jwk is not None:
        public_key(public_jwk)  # refuses a private, small or non-RSA key
    with transaction.atomic():
        account = ServiceAccount.objects.create(
            name=name.strip(),
            scopes=checked,
            expires_at=expires_at,
            public_jwk=public_jwk,
            created_by=actor.user,
        )
        account.tenants.set(tenants)
        issued = _issue(account, actor)
        audit_record(
            action="api.service_account_created",
            actor=actor,
            obj=account,
            name=account.name,
            scopes=checked,
            tenant_ids=[str(t.pk) for t in tenants],
            key_id=issued.key.key_id,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
    return issued


def rotate(
    account: ServiceAccount, *, old_valid_until: datetime, actor: Actor = SYSTEM
) -> IssuedKey:
    """A new key for the account; its other keys stay valid until `old_valid_until` (the
    overlap in which the operations app deploys the new one), or less if they expired
    sooner. `old_valid_until` at or before now ends them at once."""
    with transaction.atomic():
        now = timezone.now()
        live = ServiceKey.objects.select_for_update().filter(account=account, revoked_at=None)
        for key in live:
            if key.expires_at is None or key.expires_at > old_valid_until:
                key.expires_at = max(old_valid_until, now)
                key.save(update_fields=["expires_at"])
        issued = _issue(account, actor)
        audit_record(
            action="api.service_key_rotated",
            actor=actor,
            obj=account,
            key_id=issued.key.key_id,
            old_valid_until=old_valid_until.isoformat(),
        )
    return issued


def revoke_key(key: ServiceKey, *, actor: Actor = SYSTEM) -> bool:
    """Revoke one key at once (the next call with it is 401). False if already revoked."""
    with transaction.atomic():
        changed = ServiceKey.objects.filter(pk=key.pk, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if changed:
            changes.changed()  # every process forgets the key it kept
            audit_record(
                action="api.service_key_revoked", actor=actor, obj=key.account, key_id=key.key_id
            )
    return bool(changed)


def revoke_account(account: ServiceAccount, *, actor: Actor = SYSTEM) -> bool:
    """Revoke an account and so every key of it, at once."""
    with transaction.atomic():
        changed = ServiceAccount.objects.filter(pk=account.pk, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if changed:
            changes.changed()
            audit_record(action="api.service_account_revoked", actor=actor, obj=account)
    return bool(changed)


def set_public_key(
    account: ServiceAccount, public_jwk: dict[str, Any] | None, *, actor: Actor = SYSTEM
) -> None:
    """Register (or with None remove) the RSA public JWK the legacy hand-off seals to.
    Raises api.handoff.InvalidPublicKey for anything but a public RSA key of 2048+ bits."""
    if public_jwk is not None:
        public_key(public_jwk)
    with transaction.atomic():
        ServiceAccount.objects.filter(pk=account.pk).update(public_jwk=public_jwk)
        changes.changed()
        account.public_jwk = public_jwk
        audit_record(
            action="api.public_key_set" if public_jwk else "api.public_key_removed",
            actor=actor,
            obj=account,
            kid=str((public_jwk or {}).get("kid", "")),
        )


def accounts() -> QuerySet[ServiceAccount]:
    """Every account with its keys and tenants, for the dashboard's list: no secret is
    stored, so none can be shown."""
    return ServiceAccount.objects.prefetch_related("keys", "tenants").order_by("name", "created_at")


def authenticate(value: str, version: str | None = None) -> ServiceKey | None:
    """The usable key this value is, with its account loaded; None for anything else
    (malformed, unknown, wrong secret, expired, revoked), all alike. With the version of
    the connections (api/memo.py), a key found before under it comes from memory: the
    secret is still hashed and compared, and expiry and revocation checked, every call."""
    match = KEY_PATTERN.match(value)
    if match is None:
        # Still hash and compare, so a malformed key costs what a wrong one does.
        hmac.compare_digest(secret_hash("x", value), _DUMMY_HASH)
        return None
    key_id, secret = match["key_id"], match["secret"]

    def load() -> ServiceKey | None:
        return ServiceKey.objects.select_related("account").filter(key_id=key_id).first()

    key = _KEYS.get(key_id, version, load) if version else load()
    given = secret_hash(key_id, secret)
    if key is None:
        hmac.compare_digest(given, _DUMMY_HASH)
        return None
    if not hmac.compare_digest(given, key.secret_hash):
        return None
    now = timezone.now()
    if not key.is_usable(now) or not key.account.is_usable(now):
        return None
    return key


def touch(key: ServiceKey) -> None:
    """Record the key's use, at most once per LAST_USED_RESOLUTION (one conditional
    UPDATE, so many processes racing write it once)."""
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if key.last_used_at is not None and key.last_used_at > stale:
        return
    ServiceKey.objects.filter(Q(last_used_at=None) | Q(last_used_at__lte=stale), pk=key.pk).update(
        last_used_at=now
    )
    key.last_used_at = now
