"""API keys kept safe: the OS keyring, else a Fernet-encrypted file; never a log line.

A key is stored under a NAME (``META_ACCESS_TOKEN``, ``SEMRUSH_API_KEY``,
``OPENAI_API_KEY``, or any upper-case name).  Where it lives:

* the **OS keyring** (:mod:`keyring`, service ``simkit``) when a usable backend exists
  (the ``fail`` and ``null`` backends, or a chainer with no backend, count as absent);
* else a **Fernet-encrypted file**, ``<cache>/keys/store.json`` (``<cache>`` is
  ``.simkit-cache`` or ``$SIMKIT_CACHE_DIR``), whose master key comes from
  ``SIMKIT_MASTER_KEY`` (several keys separated by commas, newest first: a
  :class:`~cryptography.fernet.MultiFernet`, so the master key can be rotated with
  :func:`rotate_master_key`) or from the keyring (entry ``__master_key__``).
  ``SIMKIT_KEYS_BACKEND=file`` forces the file even where a keyring exists.

Names and dates (created, last used, last rotated) are kept apart from the values, in
``<cache>/keys/index.json``, so ``simkit keys list`` never decrypts anything.

An environment variable of the key's name overrides the store (:func:`get_key`): CI and
containers pass ``META_ACCESS_TOKEN=...`` and nothing is stored.

Every value :func:`get_key` hands out is remembered for :func:`scrub`, which the
:class:`SecretFilter` applies to log records (also removing ``key=``, ``access_token=``
and similar query parameters from logged URLs), and which connectors apply to error
messages and cached bodies.  :func:`key_event` is the one place every set, rotate,
delete and use passes through (names only), for an audit log to hook.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from filelock import FileLock
from keyring.backends import chainer, fail

from simkit import audit
from simkit.errors import SimkitError
from simkit.paths import ensure_inside

__all__ = [
    "ENV_OVERRIDES",
    "KeyStoreError",
    "KeyInfo",
    "SecretFilter",
    "delete_key",
    "get_key",
    "has_key",
    "install_log_scrubber",
    "key_event",
    "list_keys",
    "new_master_key",
    "register_secret",
    "rotate_key",
    "rotate_master_key",
    "scrub",
    "set_key",
    "store_backend",
]

log = logging.getLogger(__name__)

#: The keys simkit's connectors read, each overridden by the environment variable of its name.
ENV_OVERRIDES: tuple[str, ...] = ("META_ACCESS_TOKEN", "SEMRUSH_API_KEY", "OPENAI_API_KEY")

SERVICE = "simkit"
_MASTER_ENTRY = "__master_key__"
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_MIN_SECRET_CHARS = 4
_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
# query parameters and JSON fields that carry a credential, whatever the API
_CREDENTIAL_PARAM = re.compile(
    r"(?i)(\b(?:access_token|api_key|apikey|key|token|client_secret|password)=)[^&\s\"'<>]+"
)


class KeyStoreError(SimkitError):
    """A key is missing, malformed or cannot be decrypted; names the key, never its value."""

    def __init__(self, message: str, *, name: str | None = None) -> None:
        self.name = name
        super().__init__(f"key {name}: {message}" if name else message)


@dataclass(frozen=True)
class KeyInfo:
    """What ``simkit keys list`` shows of a key: never its value."""

    name: str
    backend: str
    created: str | None
    last_used: str | None
    last_rotated: str | None
    env_override: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": self.backend,
            "created": self.created,
            "last_used": self.last_used,
            "last_rotated": self.last_rotated,
            "env_override": self.env_override,
        }


# --------------------------------------------------------------------------- scrubbing


def register_secret(value: str) -> None:
    """Remember ``value`` so that :func:`scrub` removes it (every value :func:`get_key`
    returns is registered; a connector registers a key it was handed directly)."""
    if value and len(value) >= _MIN_SECRET_CHARS:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def scrub(text: str) -> str:
    """``text`` with every key simkit has read replaced by ``***``, and the values of
    credential query parameters (``key=``, ``access_token=``, ...) too."""
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return _CREDENTIAL_PARAM.sub(r"\1***", text)


class SecretFilter(logging.Filter):
    """A logging filter that scrubs every record (message and arguments) with :func:`scrub`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logged as it is, scrubbed
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return True


_FILTER = SecretFilter()


def install_log_scrubber() -> None:
    """Attach :class:`SecretFilter` to the root handlers and to the loggers of the HTTP
    libraries (``httpx`` logs every request URL at INFO).  Idempotent; call it at the
    start of a command that uses keys, not at import."""
    targets: list[logging.Filterer] = list(logging.getLogger().handlers)
    targets += [logging.getLogger(name) for name in ("httpx", "httpcore", "simkit")]
    for target in targets:
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)


# --------------------------------------------------------------------------- the hook


def key_event(action: str, name: str, *, source: str | None = None) -> None:
    """Every ``set``, ``rotate``, ``delete`` and ``used`` of a key passes here, with its
    name only (never a value): the one place an audit log hooks in."""
    log.debug("key %s %s%s", name, action, f" ({source})" if source else "")
    try:  # the audit log (simkit.audit): key.set, key.rotated, key.deleted, key.used, ...
        audit.record(f"key.{action.replace('-', '_')}", key_name=name, source=source)
    except audit.AuditError as exc:  # a key still works when the log cannot be written
        log.warning("audit log: %s", exc)


# --------------------------------------------------------------------------- storage


def _cache_dir(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir or os.environ.get("SIMKIT_CACHE_DIR") or ".simkit-cache")


def _keys_dir(cache_dir: str | Path | None) -> Path:
    return _cache_dir(cache_dir) / "keys"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise KeyStoreError(
            "a key name is upper-case letters, digits and '_', starting with a letter "
            "(e.g. META_ACCESS_TOKEN); the name given is not repeated here in case it "
            "was a value"
        )
    return name


def _usable_keyring() -> Any | None:
    """The keyring backend to store values in, or ``None`` when only the fail/null backends
    exist or ``SIMKIT_KEYS_BACKEND=file`` asks for the encrypted file."""
    if os.environ.get("SIMKIT_KEYS_BACKEND", "").lower() == "file":
        return None
    return _keyring_backend()


def _keyring_backend() -> Any | None:
    """The OS keyring if a usable backend exists (the master key may live there even when
    values go to the file)."""
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if type(backend).__module__.endswith("backends.null"):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def store_backend() -> str:
    """``"keyring"`` or ``"file"``: where :func:`set_key` would put a value now."""
    return "keyring" if _usable_keyring() is not None else "file"


class _Store:
    """The index (names and dates) and the values, under ``<cache>/keys/``."""

    def __init__(self, cache_dir: str | Path | None) -> None:
        self.dir = _keys_dir(cache_dir)
        self.index_path = self.dir / "index.json"
        self.values_path = self.dir / "store.json"

    # -- files
    def lock(self) -> FileLock:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return FileLock(str(self.dir / ".lock"), timeout=30)

    def _read(self, path: Path) -> dict[str, Any]:
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"cannot read {path} ({type(exc).__name__})") from None
        if not isinstance(data, dict):
            raise KeyStoreError(f"{path} is not a key file")
        return data

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        target = ensure_inside(self.dir, path)
        # created 0600 (not chmod-ed after the write), then renamed into place
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def index(self) -> dict[str, dict[str, Any]]:
        return self._read(self.index_path)

    def save_index(self, index: dict[str, Any]) -> None:
        self._write(self.index_path, index)

    # -- values
    def _fernet(self) -> MultiFernet:
        raw = os.environ.get("SIMKIT_MASTER_KEY", "")
        keys = [k.strip() for k in re.split(r"[,\s]+", raw) if k.strip()]
        if not keys:
            backend = _keyring_backend()
            stored = backend.get_password(SERVICE, _MASTER_ENTRY) if backend else None
            if stored:
                keys = [stored]
        if not keys:
            raise KeyStoreError(
                "no OS keyring is usable here and SIMKIT_MASTER_KEY is not set: set it to a "
                "Fernet key (`simkit keys master-key` prints a new one) to keep keys in an "
                "encrypted file, or pass the key in its environment variable"
            )
        try:
            return MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError):
            raise KeyStoreError(
                "SIMKIT_MASTER_KEY is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None

    def get_value(self, name: str, backend: str) -> str | None:
        if backend == "keyring":
            kr = _usable_keyring()
            if kr is None:
                raise KeyStoreError(
                    "it was stored in the OS keyring, which is not usable now", name=name
                )
            return kr.get_password(SERVICE, name)
        token = self._read(self.values_path).get(name)
        if token is None:
            return None
        try:
            return self._fernet().decrypt(token.encode()).decode()
        except InvalidToken:
            raise KeyStoreError(
                "cannot decrypt it: SIMKIT_MASTER_KEY is not the key it was stored with "
                "(after a master-key change, list the new key first and the old one after it)",
                name=name,
            ) from None

    def set_value(self, name: str, value: str, backend: str) -> None:
        if backend == "keyring":
            kr = _usable_keyring()
            assert kr is not None
            kr.set_password(SERVICE, name, value)
            return
        values = self._read(self.values_path)
        fernet = self._fernet()
        # a master key that does not open the keys already stored would leave the file
        # encrypted under two master keys, half of it unreadable: refuse before writing
        foreign = []
        for other, token in sorted(values.items()):
            if other == name:
                continue
            try:
                fernet.decrypt(str(token).encode())
            except InvalidToken:
                foreign.append(other)
        if foreign:
            raise KeyStoreError(
                f"not stored: SIMKIT_MASTER_KEY does not decrypt the key(s) already in "
                f"{self.values_path} ({', '.join(foreign)}); use the master key they were "
                "stored with (a new one goes first, the old one after it, then "
                "`simkit keys rotate-master`)",
                name=name,
            )
        values[name] = fernet.encrypt(value.encode()).decode()
        self._write(self.values_path, values)

    def delete_value(self, name: str, backend: str) -> None:
        if backend == "keyring":
            kr = _usable_keyring()
            if kr is not None:
                try:
                    kr.delete_password(SERVICE, name)
                except keyring.errors.PasswordDeleteError:
                    pass
            return
        values = self._read(self.values_path)
        if values.pop(name, None) is not None:
            self._write(self.values_path, values)


def _clean_value(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise KeyStoreError("the value is empty", name=name)
    if "\n" in value or "\r" in value:
        raise KeyStoreError("the value holds a line break", name=name)
    return value


def set_key(name: str, value: str, *, cache_dir: str | Path | None = None) -> KeyInfo:
    """Store ``value`` under ``name`` (replacing any earlier value; see :func:`rotate_key`)."""
    return _put(name, value, cache_dir=cache_dir, action="set")


def rotate_key(name: str, value: str, *, cache_dir: str | Path | None = None) -> KeyInfo:
    """Replace the stored value of an existing key and record when it was rotated."""
    return _put(name, value, cache_dir=cache_dir, action="rotated")


def _put(name: str, value: str, *, cache_dir: str | Path | None, action: str) -> KeyInfo:
    _check_name(name)
    value = _clean_value(value, name)
    store = _Store(cache_dir)
    with store.lock():
        index = store.index()
        entry = index.get(name)
        if action == "rotated" and entry is None:
            raise KeyStoreError("is not stored: set it first (`simkit keys set NAME`)", name=name)
        backend = store_backend()
        if entry is not None and entry.get("backend") != backend:
            store.delete_value(name, entry["backend"])
        store.set_value(name, value, backend)
        now = _now()
        if entry is None or action == "set":
            entry = {"created": now, "last_used": None, "last_rotated": None}
        if action == "rotated":
            entry["last_rotated"] = now
        entry["backend"] = backend
        index[name] = entry
        store.save_index(index)
    register_secret(value)
    key_event(action, name, source=backend)
    return _info(name, entry)


def delete_key(name: str, *, cache_dir: str | Path | None = None) -> None:
    """Remove a stored key (its value and its dates)."""
    _check_name(name)
    store = _Store(cache_dir)
    with store.lock():
        index = store.index()
        entry = index.pop(name, None)
        if entry is None:
            raise KeyStoreError("is not stored", name=name)
        store.delete_value(name, entry.get("backend", "file"))
        store.save_index(index)
    key_event("deleted", name)


def _info(name: str, entry: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        name=name,
        backend=entry.get("backend", "file"),
        created=entry.get("created"),
        last_used=entry.get("last_used"),
        last_rotated=entry.get("last_rotated"),
        env_override=bool(os.environ.get(name)),
    )


def list_keys(*, cache_dir: str | Path | None = None) -> list[KeyInfo]:
    """Every stored key's name and dates (never a value), plus the known keys given in
    the environment only (``backend="env"``)."""
    index = _Store(cache_dir).index()
    rows = [_info(name, entry) for name, entry in sorted(index.items())]
    for name in ENV_OVERRIDES:
        if name not in index and os.environ.get(name):
            rows.append(KeyInfo(name, "env", None, None, None, True))
    return rows


def has_key(name: str, *, cache_dir: str | Path | None = None) -> bool:
    """Whether ``name`` is available (environment or store), without reading a value."""
    return bool(os.environ.get(name)) or name in _Store(cache_dir).index()


def get_key(name: str, *, cache_dir: str | Path | None = None) -> str:
    """The value of key ``name``: its environment variable if set, else the store.

    Records the use (``last_used``) and remembers the value for :func:`scrub`.

    Raises
    ------
    KeyStoreError
        When the key is in neither place, or cannot be decrypted; the message names the
        key and how to set it, never a value.

    Examples
    --------
    >>> client = OpenAI(api_key=get_key("OPENAI_API_KEY"))  # doctest: +SKIP
    """
    _check_name(name)
    env = os.environ.get(name)
    if env:
        value = env.strip()
        register_secret(value)
        key_event("used", name, source="env")
        return value
    store = _Store(cache_dir)
    with store.lock():
        index = store.index()
        entry = index.get(name)
        if entry is None:
            raise KeyStoreError(
                f"is not set: run `simkit keys set {name}` (the value is read from a hidden "
                f"prompt or stdin) or set the environment variable {name}",
                name=name,
            )
        value = store.get_value(name, entry.get("backend", "file"))
        if value is None:
            raise KeyStoreError(
                f"is listed but its value is gone from the {entry.get('backend')} store: "
                f"set it again (`simkit keys set {name}`)",
                name=name,
            )
        entry["last_used"] = _now()
        store.save_index(index)
    register_secret(value)
    key_event("used", name, source=entry.get("backend"))
    return value


def rotate_master_key(*, cache_dir: str | Path | None = None) -> int:
    """Re-encrypt every file-stored key with the first key of ``SIMKIT_MASTER_KEY``.

    Set ``SIMKIT_MASTER_KEY="NEW,OLD"``, run this (``simkit keys rotate-master``), then
    drop ``OLD``.  Returns how many keys were re-encrypted.
    """
    store = _Store(cache_dir)
    with store.lock():
        values = store._read(store.values_path)
        fernet = store._fernet()
        try:
            rotated = {
                name: fernet.rotate(token.encode()).decode() for name, token in values.items()
            }
        except InvalidToken:
            raise KeyStoreError(
                "a stored key cannot be decrypted with any key of SIMKIT_MASTER_KEY"
            ) from None
        if rotated:
            store._write(store.values_path, rotated)
    for name in rotated:
        key_event("rotated-master", name)
    return len(rotated)


def new_master_key() -> str:
    """A new Fernet master key (for ``SIMKIT_MASTER_KEY``)."""
    return Fernet.generate_key().decode()
