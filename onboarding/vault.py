"""Authenticated encryption of secret columns: AES-256-GCM with a keyring.

The blob format and the keyring are in portal.keyring. The associated data binds a
blob to its place: the blob's header, the model, the row's primary key and the field
name. A blob copied to another row, field or
tenant, or changed in a single bit, fails to decrypt. Plaintext leaves only through
`reveal()`; a failure raises DecryptionError (naming the row, never the secret),
logs an alert, and never yields the stored bytes, "" or None.

The keyring comes from settings.ENCRYPTION_KEYRING (parsed at start-up from
PORTAL_ENCRYPTION_KEYS or PORTAL_ENCRYPTION_KEYS_FILE). In development without
those, the keys live in settings.ENCRYPTION_KEYS_DEV_FILE, created on first use.
Key rotation lives in the rotate_encryption_keys command; see docs/vault.md.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections, models, router, transaction

# Settings parse the keyring at start-up, so it lives in a module without app code.
from portal.keyring import (
    Binding,
    DecryptionError,
    Keyring,
    current_keyring,
)

logger = logging.getLogger(__name__)


# --- Secret columns ----------------------------------------------------------------


@dataclass(frozen=True)
class SecretColumn:
    """A secret field stored as `<field>_ciphertext` (blob) and `<field>_key_id` (indexed)."""

    model_label: str
    field: str

    @property
    def ciphertext_attr(self) -> str:
        return f"{self.field}_ciphertext"

    @property
    def key_id_attr(self) -> str:
        return f"{self.field}_key_id"

    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def binding(self, pk: object) -> Binding:
        # The lower-case label is part of every blob: renaming the model or the field
        # needs a migration that re-encrypts (docs/vault.md).
        return Binding(self.model_label.lower(), str(pk), self.field)

    def __str__(self) -> str:
        return f"{self.model_label}.{self.field}"


# Every secret column of the portal. Rotation and --status walk this list, and a
# test fails if a model grows a *_ciphertext field that is missing here.
SECRET_COLUMNS: tuple[SecretColumn, ...] = (
    SecretColumn("onboarding.ClientSecret", "value"),
    SecretColumn("onboarding.Mailbox", "password"),
    SecretColumn("onboarding.MailboxSignIn", "refresh_token"),
    SecretColumn("onboarding.CertificateDraft", "private_key"),
    SecretColumn("onboarding.CertificateRollover", "private_key"),
    SecretColumn("onboarding.VendorCredential", "private_key"),
    # Webhook signing secrets: sealed by webhooks/ in the same format and binding, so
    # a key rotation re-encrypts them with the rest.
    SecretColumn("webhooks.Endpoint", "secret"),
    SecretColumn("webhooks.Endpoint", "previous_secret"),
)


def secret_column(instance: models.Model, field: str) -> SecretColumn:
    label = instance._meta.label
    for column in SECRET_COLUMNS:
        if column.model_label == label and column.field == field:
            return column
    raise LookupError(f"{label}.{field} is not a registered secret column.")


def seal(instance: models.Model, field: str, plaintext: str) -> None:
    """Encrypt plaintext into the instance's secret column (the caller saves the row)."""
    if not isinstance(plaintext, str):
        raise TypeError("Only text secrets can be sealed.")
    column = secret_column(instance, field)
    if instance.pk is None:
        raise ValueError("The row needs its primary key before a secret can be bound to it.")
    ring = current_keyring()
    setattr(instance, column.ciphertext_attr, ring.encrypt(plaintext, column.binding(instance.pk)))
    setattr(instance, column.key_id_attr, ring.active_key_id)


def clear(instance: models.Model, field: str) -> None:
    """Empty a nullable secret column."""
    column = secret_column(instance, field)
    setattr(instance, column.ciphertext_attr, None)
    setattr(instance, column.key_id_attr, "")


def reveal(instance: models.Model, field: str) -> str:
    """The plaintext of the instance's secret column, or DecryptionError (alert logged)."""
    column = secret_column(instance, field)
    blob = getattr(instance, column.ciphertext_attr)
    return decrypt_blob(column, instance.pk, blob, current_keyring())


def decrypt_blob(column: SecretColumn, pk: object, blob: Any, ring: Keyring) -> str:
    binding = column.binding(pk)
    try:
        if blob is None:
            raise DecryptionError(binding, "no ciphertext stored")
        return ring.decrypt(bytes(blob), binding)
    except DecryptionError as error:
        logger.error("ALERT vault: %s", error)
        raise


# --- Rotation ------------------------------------------------------------------------


@dataclass
class RotationReport:
    column: SecretColumn
    rotated: int = 0
    batches: int = 0
    # Primary keys of rows that would not decrypt (each logged as an alert).
    failed: list[Any] = dataclasses.field(default_factory=list)
    # Rows still under another key after the run: locked by a writer, or failed.
    remaining: int = 0
    # Keyset cursor: each batch starts after the last primary key seen, so that
    # a run reads the table once instead of rescanning the rows it already did.
    last_pk: Any = None


def stored_rows(column: SecretColumn) -> models.QuerySet[Any]:
    return column.model()._default_manager.filter(**{f"{column.ciphertext_attr}__isnull": False})


def rows_to_rotate(column: SecretColumn, ring: Keyring) -> models.QuerySet[Any]:
    return stored_rows(column).exclude(**{column.key_id_attr: ring.active_key_id})


def rotate_column(
    column: SecretColumn,
    ring: Keyring,
    *,
    batch_size: int = 500,
    progress: Callable[[RotationReport], None] | None = None,
) -> RotationReport:
    """Re-encrypt the column's rows to the active key, one transaction per batch.

    Killing the process at any point leaves each row whole under its old or its
    new key: a batch commits entirely or not at all, and rows are locked
    (skip_locked) while they are rewritten, so a concurrent writer is neither
    clobbered nor waited for. Safe to rerun; rows already on the key are skipped.
    """
    report = RotationReport(column)
    while _rotate_batch(column, ring, batch_size, report):
        report.batches += 1
        if progress is not None:
            progress(report)
    report.remaining = rows_to_rotate(column, ring).count()
    return report


def _rotate_batch(column: SecretColumn, ring: Keyring, size: int, report: RotationReport) -> bool:
    """Rewrite one batch; False when no unlocked row is left to rotate."""
    model = column.model()
    candidates = rows_to_rotate(column, ring)
    if report.last_pk is not None:
        candidates = candidates.filter(pk__gt=report.last_pk)
    with transaction.atomic():
        # On SQLite select_for_update is a no-op: its transactions are serializable.
        rows = list(
            candidates.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", column.ciphertext_attr)[:size]
        )
        if not rows:
            return False
        report.last_pk = rows[-1][0]
        changed = []
        for pk, blob in rows:
            try:
                plaintext = decrypt_blob(column, pk, blob, ring)
            except DecryptionError:
                report.failed.append(pk)
                continue
            changed.append((pk, ring.encrypt(plaintext, column.binding(pk))))
        _write_batch(model, column, changed, ring.active_key_id)
    report.rotated += len(changed)
    return True


def _write_batch(
    model: type[models.Model], column: SecretColumn, changed: list[tuple[Any, bytes]], key_id: str
) -> None:
    # One prepared UPDATE per row, sent with executemany: Django's bulk_update builds
    # a CASE expression per row and was ten times slower (bench/vault_bench.py).
    connection = connections[router.db_for_write(model)]
    meta, quote = model._meta, connection.ops.quote_name
    blob_field = meta.get_field(column.ciphertext_attr)
    key_field = meta.get_field(column.key_id_attr)
    assert isinstance(blob_field, models.Field)
    assert isinstance(key_field, models.Field)
    assert meta.pk is not None
    # Only quoted identifiers from the model's own metadata are interpolated.
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {quote(blob_field.column)} = %s, "  # noqa: S608
        f"{quote(key_field.column)} = %s WHERE {quote(meta.pk.column)} = %s"
    )
    params = [
        (
            blob_field.get_db_prep_value(blob, connection),
            key_id,
            meta.pk.get_db_prep_value(pk, connection),
        )
        for pk, blob in changed
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def key_counts(columns: Iterable[SecretColumn] = SECRET_COLUMNS) -> dict[str, dict[str, int]]:
    """Rows per key id, per column: {"onboarding.ClientSecret.value": {"k1": 3}}."""
    counts: dict[str, dict[str, int]] = {}
    for column in columns:
        rows = stored_rows(column).values_list(column.key_id_attr).annotate(n=models.Count("pk"))
        counts[str(column)] = dict(sorted(rows.order_by(column.key_id_attr)))
    return counts
