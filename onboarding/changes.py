"""One shared version of the connections: a new one after every change to a tenant, its
app, its secrets or its mailboxes (and, from api, to service accounts and keys).

Why: the operations API's token call runs hundreds of times a second and reads the
same few rows every time (the key, the mailbox, the secret in use). api keeps them in
each process's memory for as long as this version stays the same (api/memo.py), so
one shared-cache read replaces those queries, and a change is seen by every process
on its next call: a revoked key is refused at once, a removed mailbox is 404 at once.

A model save or delete announces itself (the receivers below); the few writers that
change those rows with a queryset UPDATE call `changed()` themselves. The version is
replaced at once and again after the commit: a process that read the old rows
between the two replaces them on its next call.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from onboarding.models import (
    AppRegistration,
    ClientSecret,
    Mailbox,
    MailboxSignIn,
    Tenant,
    VendorCredential,
)

KEY = "connections:version"
logger = logging.getLogger(__name__)


def changed() -> None:
    """Something the API serves from memory changed: every process drops what it kept."""
    _replace()
    transaction.on_commit(_replace)


def version() -> str:
    """The current version (one shared-cache read); a new one when the cache lost it,
    so that memory kept under a lost version is never trusted again."""
    current = cache.get(KEY)
    if current is None:
        cache.add(KEY, uuid.uuid4().hex, timeout=None)
        current = cache.get(KEY)
    return str(current)


def _replace() -> None:
    try:
        cache.set(KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        # A save must not fail because the cache is away (the API cannot answer then
        # either: it reads the version first). Memory kept meanwhile ends after
        # api.memo.MAX_AGE at the latest.
        logger.warning("The shared version of the connections could not be replaced.")


def _on_write(**_: Any) -> None:
    changed()


def announce_writes(*models: type[Model]) -> None:
    """Every save and delete of these models replaces the version (api adds its keys)."""
    for model in models:
        uid = f"{model._meta.label}-changes"
        post_save.connect(_on_write, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"{uid}-delete")


announce_writes(Tenant, AppRegistration, ClientSecret, Mailbox, MailboxSignIn, VendorCredential)


def announce_changes_of(relation: type[Model]) -> None:
    """The same for a many-to-many table (its changes send no save or delete)."""
    m2m_changed.connect(_on_write, sender=relation, dispatch_uid=f"{relation._meta.label}-changes")
