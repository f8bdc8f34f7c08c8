"""Encryption at rest of payload columns (a run's parameters, a campaign's error detail,
the ledger's payloads) with Fernet, when ``SIMKIT_MASTER_KEY`` is set.

:class:`EncryptedText` is a SQLAlchemy column type: a table declares a payload column with
it instead of ``Text`` and nothing else changes.  With a key, values are written as
``fernet:<token>`` (AES-128-CBC with HMAC-SHA256, from ``cryptography``); without one they
are written as plain text, as before.  Reading accepts both, so a registry written before
the key was set keeps working, and the rows written from then on are encrypted.

``SIMKIT_MASTER_KEY`` is a Fernet key (``Fernet.generate_key()``, 44 characters), or
several separated by commas to rotate: the first encrypts, every one decrypts
(``MultiFernet``).  It is read at call time and never logged; an encrypted value read
without the key, or with a wrong one, is a clear error that names neither the key nor the
value.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from simkit.errors import SimkitError

__all__ = [
    "ENV_VAR",
    "PREFIX",
    "CryptoError",
    "EncryptedText",
    "decrypt_stored",
    "encrypt_stored",
    "is_encrypted",
]

ENV_VAR = "SIMKIT_MASTER_KEY"
PREFIX = "fernet:"


class CryptoError(SimkitError):
    """An encrypted value cannot be read (no key, or not the key that wrote it)."""


def _fernet() -> MultiFernet | None:
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return None
    try:
        return MultiFernet([Fernet(part.strip().encode()) for part in raw.split(",") if part])
    except (ValueError, TypeError):
        raise CryptoError(
            f"{ENV_VAR} is not a Fernet key (44 url-safe base64 characters; make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())'`)"
        ) from None


def is_encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt_stored(value: str | None) -> str | None:
    """``value`` as it is stored: encrypted when a key is set, else unchanged."""
    if value is None or is_encrypted(value):
        return value
    fernet = _fernet()
    if fernet is None:
        return value
    return PREFIX + fernet.encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_stored(value: str | None) -> str | None:
    """A stored value as text (plain text passes through)."""
    if not is_encrypted(value):
        return value
    fernet = _fernet()
    if fernet is None:
        raise CryptoError(f"the registry holds encrypted values: set {ENV_VAR} to read them")
    try:
        return fernet.decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise CryptoError(
            f"an encrypted registry value does not decrypt with {ENV_VAR} (another key?)"
        ) from None


class EncryptedText(TypeDecorator):
    """``Text`` stored encrypted when ``SIMKIT_MASTER_KEY`` is set (see the module doc)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return encrypt_stored(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return decrypt_stored(value)
