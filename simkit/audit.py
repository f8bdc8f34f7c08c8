"""The audit log: an append-only, hash-chained JSON-lines file of what simkit did.

Each line is one event, a JSON object with sorted keys::

    {"at": "2026-12-02T00:30:00+00:00", "event": "run.started", "hash": "...",
     "prev": "...", "run_id": "...", "seq": 1}

``prev`` is the SHA-256 of the previous line's text (64 zeros for the first line) and
``hash`` the SHA-256 of this line's canonical JSON without ``hash``, so a line edited in
place breaks its own hash and a deleted line breaks the chain of the line after it.  A
sidecar ``<log>.head`` holds the last line's number and hash, so a deleted *last* line is
found too.  :func:`verify` names the first line that fails.

The log lives beside the registry: ``audit.jsonl`` in the folder of a SQLite registry
(``.simkit-cache/audit.jsonl`` by default), ``.simkit-cache/audit.jsonl`` in the working
folder for any other registry; ``SIMKIT_AUDIT_PATH`` overrides both (read at call time).

Campaigns and clients are recorded by pseudonym, not by id: ``campaign_id``, ``campaigns``
and ``client`` values become ``cmp-<random hex>`` / ``cli-<random hex>``, and the table from
pseudonym to id is kept apart, in ``<log>.subjects`` (JSON).  :func:`entries` maps them back.
A purge (:func:`forget`) deletes a subject's row from that table, so the log keeps every
line, verifiable and unchanged, while none of them names the purged campaign any more;
only the purge's own entry does (``purged_campaigns``: recorded as given).

Writers on one machine are serialised by a lock file (``<log>.lock``), so concurrent runs,
dashboards and commands append whole lines in order.  Secrets are never recorded: a field
whose name looks like a credential is refused, and a dashboard token is recorded by its
identity (:func:`token_id`, a hash), never its value.

Events simkit records (``event`` names): ``run.started``, ``run.finished``,
``report.published``, ``dashboard.session``, ``dashboard.preview``, ``export``,
``purge``, ``gc``, ``backup``, ``restore``, ``config.changed``; the ledger and the key
store add ``ledger.feedback``, ``key.set``, ``key.rotated`` and ``key.used``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from simkit.errors import SimkitError

__all__ = [
    "ENV_VAR",
    "GENESIS",
    "AuditError",
    "Verification",
    "audit_path",
    "entries",
    "forget",
    "record",
    "token_id",
    "verify",
]

ENV_VAR = "SIMKIT_AUDIT_PATH"
GENESIS = "0" * 64
_DEFAULT = Path(".simkit-cache") / "audit.jsonl"
#: Field names that would carry a credential's value; names such as ``key_name`` are fine.
_SECRET_FIELD = re.compile(r"(secret|passw|credential|private_?key|^token$|^api_?key$)", re.I)
_RESERVED = ("at", "event", "hash", "prev", "seq")
#: Fields whose values name a data subject: recorded by pseudonym (see the module doc).
_SUBJECT_FIELDS = {"campaign_id": "cmp", "campaigns": "cmp", "client": "cli"}


class AuditError(SimkitError):
    """The audit log cannot be written or read, or a record is refused."""


def audit_path(registry_url: str | None = None) -> Path:
    """Where the audit log is: ``SIMKIT_AUDIT_PATH``, else beside a SQLite registry file,
    else ``.simkit-cache/audit.jsonl`` in the working folder."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    url = registry_url or os.environ.get("SIMKIT_REGISTRY_URL")
    if url and url.startswith("sqlite:///") and not url.endswith(":memory:"):
        database = url[len("sqlite:///") :].split("?", 1)[0]
        if database:
            return Path(database).parent / "audit.jsonl"
    return _DEFAULT


def token_id(token: str | None) -> str | None:
    """A token's identity for the log: 16 hex digits of its SHA-256 (never the token)."""
    if not token:
        return None
    return hashlib.sha256(b"simkit-token:" + token.encode()).hexdigest()[:16]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _head_file(path: Path) -> Path:
    return path.with_name(path.name + ".head")


def _last_line(path: Path) -> str | None:
    """The file's last non-empty line, read from the end."""
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        chunk, pos, buf = 8192, end, b""
        while pos > 0:
            pos = max(0, pos - chunk)
            fh.seek(pos)
            buf = fh.read(end - pos)
            lines = buf.rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or pos == 0:
                last = lines[-1]
                return last.decode("utf-8") if last else None
    return None


def _subjects_file(path: Path) -> Path:
    return path.with_name(path.name + ".subjects")


def _read_subjects(path: Path) -> dict[str, dict[str, str]]:
    """``{"cmp": {id: pseudonym}, "cli": {...}}`` (empty when there is none)."""
    file = _subjects_file(path)
    if not file.is_file():
        return {"cmp": {}, "cli": {}}
    try:
        table = json.loads(file.read_text(encoding="utf-8"))
        return {"cmp": dict(table.get("cmp", {})), "cli": dict(table.get("cli", {}))}
    except (ValueError, AttributeError):
        raise AuditError(f"the audit subjects file {file} is damaged") from None


def _write_subjects(path: Path, table: dict[str, dict[str, str]]) -> None:
    file = _subjects_file(path)
    tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(table, fh, sort_keys=True)
    os.replace(tmp, file)


def _pseudonymise(fields: dict[str, Any], table: dict[str, dict[str, str]]) -> bool:
    """Replace subject values in ``fields`` by pseudonyms (new ones added to ``table``);
    whether ``table`` changed."""
    changed = False

    def alias(kind: str, value: Any) -> Any:
        nonlocal changed
        if not isinstance(value, str):
            return value
        known = table[kind].get(value)
        if known is None:
            known = table[kind][value] = f"{kind}-{secrets.token_hex(8)}"
            changed = True
        return known

    for name, kind in _SUBJECT_FIELDS.items():
        if name not in fields or fields[name] is None:
            continue
        value = fields[name]
        if isinstance(value, (list, tuple)):
            fields[name] = [alias(kind, v) for v in value]
        else:
            fields[name] = alias(kind, value)
    return changed


def forget(
    *,
    campaigns: Iterable[str] = (),
    clients: Iterable[str] = (),
    path: str | Path | None = None,
) -> int:
    """Delete the pseudonyms of ``campaigns`` and ``clients``: no line of the log can be
    tied to them any more (the lines themselves stay, and verify).  Returns how many."""
    log_path = Path(path) if path is not None else audit_path()
    if not _subjects_file(log_path).is_file():
        return 0
    with FileLock(str(log_path) + ".lock", timeout=30):
        table = _read_subjects(log_path)
        n = sum(table["cmp"].pop(c, None) is not None for c in campaigns)
        n += sum(table["cli"].pop(c, None) is not None for c in clients)
        _write_subjects(log_path, table)
    return n


def record(event: str, *, path: str | Path | None = None, **fields: Any) -> dict[str, Any]:
    """Append one event to the audit log and return the line written (as a dict).

    Parameters
    ----------
    event
        What happened, ``noun.verb`` (``run.started``, ``purge``, ``key.rotated``).
    path
        The log file; default :func:`audit_path` ``()``.
    **fields
        What it concerns: ``run_id``, ``campaign_id``, ``campaigns``, ``client``,
        ``token_id``, ``key_name``, counts... (JSON values).  A name that looks like a
        credential (``token``, ``password``, ``secret``...) is refused: record its
        identity (:func:`token_id`) or its name instead.

    Examples
    --------
    >>> record("config.changed", path=tmp / "audit.jsonl", field="retention_days")  # doctest: +SKIP
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*", event):
        raise AuditError(f"audit event '{event}' is not a dotted lower-case name")
    for name in fields:
        if name in _RESERVED:
            raise AuditError(f"audit field '{name}' is reserved")
        if _SECRET_FIELD.search(name):
            raise AuditError(
                f"audit field '{name}' looks like a secret: record its name or its "
                "identity (simkit.audit.token_id), never its value"
            )
    log_path = Path(path) if path is not None else audit_path()
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(log_path) + ".lock", timeout=30):
            values = {k: _json_value(v) for k, v in fields.items()}
            table = _read_subjects(log_path)
            if _pseudonymise(values, table):
                _write_subjects(log_path, table)
            last = _last_line(log_path)
            if last is None:
                seq, prev = 1, GENESIS
            else:
                try:
                    seq = int(json.loads(last)["seq"]) + 1
                except (ValueError, KeyError, TypeError):
                    raise AuditError(
                        f"the audit log {log_path} ends in a damaged line; "
                        "run `simkit audit verify`"
                    ) from None
                prev = _sha(last)
            entry = {
                **values,
                "at": datetime.now(UTC).isoformat(timespec="microseconds"),
                "event": event,
                "prev": prev,
                "seq": seq,
            }
            entry["hash"] = _sha(_canonical(entry))
            line = _canonical(entry)
            fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            head = _head_file(log_path)
            tmp = head.with_name(head.name + ".tmp")
            tmp.write_text(json.dumps({"seq": seq, "line_sha256": _sha(line)}) + "\n")
            os.replace(tmp, head)
    except OSError as exc:
        raise AuditError(f"cannot write the audit log {log_path}: {exc.strerror}") from None
    return entry


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8", newline="\n") as fh:
        for number, raw in enumerate(fh, start=1):
            yield number, raw.rstrip("\n")


def entries(
    path: str | Path | None = None,
    *,
    since: datetime | date | str | None = None,
    campaign: str | None = None,
) -> list[dict[str, Any]]:
    """The log's events, oldest first, optionally from ``since`` on and about ``campaign``.

    An event is about a campaign when its ``campaign_id`` is it or its ``campaigns`` list
    holds it.  ``since`` is a date (from its midnight UTC), a datetime or an ISO string.
    """
    log_path = Path(path) if path is not None else audit_path()
    if not log_path.is_file():
        return []
    start = _parse_since(since)
    table = _read_subjects(log_path)
    back = {kind: {v: k for k, v in ids.items()} for kind, ids in table.items()}
    out = []
    for number, line in _lines(log_path):
        if not line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise AuditError(
                f"line {number} of {log_path} is not JSON; run `simkit audit verify`"
            ) from None
        for name, kind in _SUBJECT_FIELDS.items():
            value = entry.get(name)
            if isinstance(value, list):
                entry[name] = [back[kind].get(v, v) for v in value]
            elif isinstance(value, str):
                entry[name] = back[kind].get(value, value)
        if start is not None and datetime.fromisoformat(entry["at"]) < start:
            continue
        if campaign is not None and not _about(entry, campaign):
            continue
        out.append(entry)
    return out


def _about(entry: dict[str, Any], campaign: str) -> bool:
    if campaign in (entry.get("campaign_id"), entry.get("purged_campaigns")):
        return True
    return any(
        isinstance(listed, list) and campaign in listed
        for listed in (entry.get("campaigns"), entry.get("purged_campaigns"))
    )


def _parse_since(since: datetime | date | str | None) -> datetime | None:
    if since is None:
        return None
    if isinstance(since, str):
        try:
            since = datetime.fromisoformat(since)
        except ValueError:
            raise AuditError(f"--since '{since}' is not a date or time (ISO 8601)") from None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    return datetime(since.year, since.month, since.day, tzinfo=UTC)


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`: ``ok``, lines checked, and the first problem."""

    ok: bool
    n_lines: int
    path: str
    line: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "n_lines": self.n_lines,
            "path": self.path,
            "line": self.line,
            "problem": self.problem,
        }


def verify(path: str | Path | None = None) -> Verification:
    """Check every line's hash and the chain; name the first line changed or deleted."""
    log_path = Path(path) if path is not None else audit_path()
    where = str(log_path)
    head = _head_file(log_path)
    if not log_path.is_file():
        if head.is_file():
            return Verification(False, 0, where, 1, "the audit log is missing (its head remains)")
        return Verification(True, 0, where)
    prev, count, last = GENESIS, 0, None
    for number, line in _lines(log_path):
        count = number
        try:
            entry = json.loads(line)
            claimed = entry.pop("hash")
            seq = entry["seq"]
        except (ValueError, KeyError, TypeError, AttributeError):
            return Verification(False, count, where, number, f"line {number} is not an entry")
        if claimed != _sha(_canonical(entry)):
            return Verification(
                False, count, where, number, f"line {number} was changed (its hash differs)"
            )
        if seq != number or entry["prev"] != prev:
            if isinstance(seq, int) and seq > number:
                gone = f"{number}" if seq == number + 1 else f"{number}-{seq - 1}"
                return Verification(
                    False, count, where, number, f"line {gone} was deleted (before seq {seq})"
                )
            if seq == number and number > 1:
                return Verification(
                    False,
                    count,
                    where,
                    number - 1,
                    f"line {number - 1} was changed (line {number} chains to another text)",
                )
            return Verification(
                False,
                count,
                where,
                number,
                f"line {number} is out of place (a line was reordered or inserted)",
            )
        prev, last = _sha(line), line
    if head.is_file():
        try:
            want = json.loads(head.read_text())
            want_seq, want_sha = int(want["seq"]), want["line_sha256"]
        except (ValueError, KeyError, TypeError):
            return Verification(False, count, where, None, f"the head file {head} is damaged")
        if want_seq > count:
            gone = f"{count + 1}" if want_seq == count + 1 else f"{count + 1}-{want_seq}"
            return Verification(
                False, count, where, count + 1, f"line {gone} was deleted (the log ends early)"
            )
        if want_seq == count and last is not None and _sha(last) != want_sha:
            return Verification(False, count, where, count, f"line {count} was changed")
    return Verification(True, count, where)
