"""The keyring of the vault, with no app code: AES-256-GCM keys, the blob format, and the
parser of PORTAL_ENCRYPTION_KEYS.

Settings parse the key list at start-up, so this module imports nothing from the portal
(only the standard library, cryptography and Django's ImproperlyConfigured). A stored
blob is, byte by byte::

    version (1) | key id length n (1) | key id (n, ASCII) | nonce (12) | ciphertext + tag (16)

The associated data binds a blob to its place: the header above, the model, the row's
primary key and the field name (see onboarding.vault, which owns the secret columns).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

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
    """The keyring in force: settings.ENCRYPTION_KEYRING (parsed at start-up), or else,
    in development only, the local key file (settings.ENCRYPTION_KEYS_DEV_FILE), created
    on first use and read once per process. The vault and the webhook secrets both read
    it here, so they always agree."""
    from django.conf import settings  # at call time: the settings import this module

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
