"""Authenticated encryption of secret columns: AES-256-GCM with a keyring.

A stored blob is, byte by byte::

    version (1) | key id length n (1) | key id (n, ASCII) | nonce (12) | ciphertext + tag (16)

The associated data binds a blob to its place: the header above, the model, the
row's primary key and the field name. A blob copied to another row, field or
tenant, or changed in a single bit, fails to decrypt. Plaintext leaves only through
`reveal()`; a failure raises DecryptionError (naming the row, never the secret),
logs an alert, and never yields the stored bytes, "" or None.

The keyring comes from settings.ENCRYPTION_KEYRING (parsed at start-up from
PORTAL_ENCRYPTION_KEYS or PORTAL_ENCRYPTION_KEYS_FILE). In development without
those, the keys live in settings.ENCRYPTION_KEYS_DEV_FILE, created on first use.
Key rotation lives in the rotate_encryption_keys command; see docs/vault.md.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
# Key ids go into the blob header and into the indexed *_key_id columns (32 chars).
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
KEYS_VARIABLE = "PORTAL_ENCRYPTION_KEYS"


class KeyringError(ImproperlyConfigured):
    """The configured key list is unusable. The text never contains key material."""


class DecryptionError(Exception):
    """A stored secret could not be decrypted. The text names the row, never the secret."""

    def __init__(self, binding: Binding, reason: str) -> None:
        self.binding = binding
        self.reason = reason
        super().__init__(f"Cannot decrypt {binding}: {reason}.")


@dataclass(frozen=True)
class Binding:
    """Where a ciphertext belongs: it decrypts only there."""

    model: str
    pk: str
    field: str

    def __str__(self) -> str:
        return f"{self.model} {self.pk} field {self.field}"

    def associated_data(self, header: bytes) -> bytes:
        # Length-prefixed, so that no two different bindings encode alike.
        parts = [header, self.model.encode(), self.pk.encode(), self.field.encode()]
        return b"".join(len(part).to_bytes(2, "big") + part for part in parts)


class Keyring:
    """Ordered keys: the first encrypts, every one decrypts. Its repr shows key ids only."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise KeyringError("A keyring needs at least one key.")
        for key_id, key in keys.items():
            if not KEY_ID_PATTERN.fullmatch(key_id) or len(key) != KEY_BYTES:
                raise KeyringError("Every key needs a valid key id and 32 bytes.")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id = next(iter(keys))

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    def __repr__(self) -> str:
        return f"<Keyring active={self.active_key_id!r} keys={self.key_ids!r}>"

    def encrypt(self, plaintext: str, binding: Binding) -> bytes:
        key_id = self.active_key_id.encode("ascii")
        header = bytes([FORMAT_VERSION, len(key_id)]) + key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active_key_id].encrypt(
            nonce, plaintext.encode("utf-8"), binding.associated_data(header)
        )
        return header + nonce + sealed

    def decrypt(self, blob: bytes, binding: Binding) -> str:
        key_id, header, nonce, sealed = _split(blob, binding)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(binding, f"key id {key_id!r} is not in the keyring")
        try:
            plaintext = cipher.decrypt(nonce, sealed, binding.associated_data(header))
        except InvalidTag:
            reason = "authentication failed (altered, moved from another row, or another key)"
            raise DecryptionError(binding, reason) from None
        return plaintext.decode("utf-8")


def _split(blob: bytes, binding: Binding) -> tuple[str, bytes, bytes, bytes]:
    if len(blob) < 2 or blob[0] != FORMAT_VERSION:
        raise DecryptionError(binding, "unknown blob format")
    end_of_id = 2 + blob[1]
    raw_key_id = blob[2:end_of_id]
    sealed = blob[end_of_id + NONCE_BYTES :]
    key_id = raw_key_id.decode("ascii", errors="replace")
    if not KEY_ID_PATTERN.fullmatch(key_id) or len(sealed) < TAG_BYTES:
        raise DecryptionError(binding, "malformed blob")
    return key_id, blob[:end_of_id], blob[end_of_id : end_of_id + NONCE_BYTES], sealed


# --- Key lists ------------------------------------------------------------------


def parse_keyring(text: str, *, source: str = KEYS_VARIABLE) -> Keyring:
    """Parse `key_id:base64key` entries separated by commas or new lines.

    Blank entries and whole lines starting with # are skipped; positions count the others
    from 1. Errors name the source and the position, never any part of the entry.
    """
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    entries = [entry.strip() for line in lines for entry in line.split(",") if entry.strip()]
    if not entries:
        raise KeyringError(f"{source} holds no key; expected key_id:base64key[,...].")
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(entries, start=1):
        key_id, key = _parse_entry(entry, f"{source}: entry {position}")
        if key_id in keys:
            raise KeyringError(f"{source}: entry {position} repeats an earlier key id.")
        keys[key_id] = key
    return Keyring(keys)


def _parse_entry(entry: str, where: str) -> tuple[str, bytes]:
    key_id, colon, encoded = entry.partition(":")
    if not colon:
        raise KeyringError(f"{where} is not of the form key_id:base64key.")
    if not KEY_ID_PATTERN.fullmatch(key_id.strip()):
        raise KeyringError(
            f"{where} has an invalid key id: use 1-32 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    try:
        key = base64.b64decode(encoded.strip().translate(_URLSAFE), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{where} has a key that is not valid base64.") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(f"{where} has a {len(key)}-byte key; AES-256 needs {KEY_BYTES}.")
    return key_id.strip(), key


_URLSAFE = str.maketrans("-_", "+/")


def generate_entry(key_id: str) -> str:
    """A new `key_id:base64key` entry with a random 256-bit key."""
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise ValueError("Key ids are 1-32 letters, digits, '.', '_' or '-'.")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


def read_keyring_file(path: Path, *, source: str | None = None) -> Keyring:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyringError(f"{path} cannot be read: {exc.strerror}.") from None
    return parse_keyring(text, source=source or str(path))


def ensure_key_file(path: Path) -> bool:
    """Create a development key file with one fresh key, unless it exists. True if created.

    Written to a private temporary file and hard-linked into place, so that two
    processes starting together end up with the same single key.
    """
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    content = (
        "# Development keys for onboarding.vault (key_id:base64key; the first encrypts).\n"
        "# Made on first start; never commit this file. See docs/vault.md.\n"
        f"{generate_entry('dev-1')}\n"
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


_dev_lock = threading.Lock()
_dev_keyrings: dict[Path, Keyring] = {}


def current_keyring() -> Keyring:
    """The keyring in force: configured, or else (development only) the local key file."""
    configured = getattr(settings, "ENCRYPTION_KEYRING", None)
    if configured is not None:
        return configured
    if getattr(settings, "PRODUCTION", False):
        raise KeyringError(f"{KEYS_VARIABLE} must be set in production.")
    path = Path(settings.ENCRYPTION_KEYS_DEV_FILE)
    with _dev_lock:
        if path not in _dev_keyrings:
            ensure_key_file(path)
            _dev_keyrings[path] = read_keyring_file(path)
        return _dev_keyrings[path]


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
