"""Privacy on request: export or purge everything simkit holds about a campaign or client,
and retention (``retention_days``, ``simkit gc``).

A *subject* is one campaign (``--campaign ID``) or a client (``--client NAME``): the
campaigns whose metadata ``client`` field is that name, in any recorded run (the metadata is
resolved as the run resolved it, :func:`simkit.metadata.resolve_metadata`).

:func:`purge` deletes, in every store of :mod:`simkit.ops.stores`:

* the rows of every registry table with a ``campaign_id`` column (reflected: the ledger's
  tables too), and the runs that covered only purged campaigns; in the other rows, every
  text value naming a purged campaign is scrubbed (a run's parameters, its error);
* the campaign's report folders (published, staging, ``.failed``, ``.old-*``), with
  ``summary.json`` and the executed notebook; in the run-wide files (``run.json``,
  ``pivots.json``, the index, the portfolio notebook, other campaigns' reports, which cite
  it in the budget reallocation) the id and the campaign's name become ``[purged]``;
* the cached fits that hold it, the lines of the metrics textfiles that label it, the
  webhook's alert state, the run logs' mentions, the parameter files simkit wrote naming it;
* the audit log's link to it (:func:`simkit.audit.forget`), then one audit entry saying
  what was purged.

SQLite keeps deleted rows in free pages: the purge runs with ``PRAGMA secure_delete=ON``
(freed pages are zeroed) and ends with ``VACUUM``.  The user's own input files (the data,
the metadata, the parameter files they wrote) are theirs and stay.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Engine

from simkit import __version__, audit, metrics
from simkit.crypto import decrypt_stored, encrypt_stored, is_encrypted
from simkit.errors import SimkitError
from simkit.metadata import resolve_metadata
from simkit.ops.stores import (
    Stores,
    cached_replies,
    contains,
    scrub_json,
    scrub_text,
    walk_files,
)
from simkit.paths import ensure_inside, safe_name

__all__ = ["GcResult", "PurgeResult", "Subject", "export", "gc", "purge", "subject"]

_TEXT_SUFFIXES = {".html", ".log", ".txt", ".yaml", ".yml", ".csv", ".prom", ".md", ".svg"}
_JSON_SUFFIXES = {".json", ".ipynb"}


@dataclass(frozen=True)
class Subject:
    """Whom a request concerns: the campaigns (and the client, if one was named)."""

    campaigns: tuple[str, ...]
    client: str | None = None
    names: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"client {self.client!r}" if self.client else f"campaign {self.campaigns[0]!r}"

    @property
    def needles(self) -> list[str]:
        """What must not remain: the ids, the campaigns' names, the client's name."""
        out = [*self.campaigns, *self.names]
        if self.client:
            out.append(self.client)
        return [n for n in out if n]


def _campaign_rows(engine: Engine, stores: Stores, ids: set[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for table in stores.tables(engine):
        if "campaign_id" not in table.c:
            continue
        with engine.connect() as conn:
            rows = conn.execute(select(table).where(table.c.campaign_id.in_(sorted(ids))))
            out[table.name] = [
                {k: decrypt_stored(v) if is_encrypted(v) else v for k, v in r._mapping.items()}
                for r in rows
            ]
    return out


def _names_from_reports(stores: Stores, engine: Engine, ids: set[str]) -> set[str]:
    """The campaigns' names, as their reports' ``summary.json`` give them."""
    names = set()
    for folder in stores.output_dirs(engine):
        for cid in ids:
            summary = folder / safe_name(cid) / "summary.json"
            try:
                name = json.loads(summary.read_text(encoding="utf-8")).get("name")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(name, str) and name.strip() and name not in ids:
                names.add(name)
    return names


def subject(stores: Stores, *, campaign: str | None = None, client: str | None = None) -> Subject:
    """The campaigns a request concerns; an error when it names none or both."""
    if (campaign is None) == (client is None):
        raise SimkitError("give --campaign ID or --client NAME (one of them)")
    engine = stores.engine()
    try:
        if campaign is not None:
            ids = {campaign}
        else:
            ids = _client_campaigns(stores, engine, client or "")
            if not ids:
                raise SimkitError(
                    f"no recorded campaign has client {client!r} in its metadata "
                    "(metadata field 'client')"
                )
        names = _names_from_reports(stores, engine, ids)
    finally:
        engine.dispose()
    return Subject(tuple(sorted(ids)), client, tuple(sorted(names)))


def _client_campaigns(stores: Stores, engine: Engine, client: str) -> set[str]:
    """Campaigns whose metadata ``client`` is ``client`` in any recorded run."""
    rows = _all_campaign_ids(stores, engine)
    found: set[str] = set()
    for run in stores.runs(engine):
        params = run["params"] if isinstance(run["params"], dict) else {}
        campaigns = sorted(rows.get(run["run_id"], set()))
        if not campaigns or not params.get("data"):
            continue
        try:
            resolved = resolve_metadata(
                campaigns,
                data_path=params.get("data"),
                mapping=params.get("mapping"),
                metadata_file=params.get("metadata"),
                overrides={
                    cid: {k: v for k, v in meta.items() if v is not None}
                    for cid, meta in (params.get("campaign_meta") or {}).items()
                    if cid in campaigns
                },
            )
        except (SimkitError, OSError):
            continue  # a run whose metadata files are gone cannot say
        table = resolved.campaigns
        if "client" not in table.columns:
            continue
        found |= set(table.loc[table["client"] == client, "campaign_id"].astype(str))
    return found


def _all_campaign_ids(stores: Stores, engine: Engine) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for table in stores.tables(engine):
        if "campaign_id" in table.c and "run_id" in table.c:
            with engine.connect() as conn:
                for run_id, cid in conn.execute(select(table.c.run_id, table.c.campaign_id)):
                    out.setdefault(run_id, set()).add(cid)
    return out


def _campaign_folders(output_dir: Path, cid: str) -> list[Path]:
    """Every folder a campaign's report may be in: published, staging, failed, old."""
    name = safe_name(cid)
    found = [output_dir / name, output_dir / ".failed" / name]
    found += list((output_dir / ".staging").glob(f"*/{name}"))
    found += list(output_dir.glob(f".{name}.old-*"))
    return [f for f in found if f.exists()]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def export(stores: Stores, who: Subject, output: Path) -> dict[str, Any]:
    """Write ``output`` (a zip): registry rows, reports, cached fits, audit entries, a
    manifest with every file's SHA-256.  Returns the manifest."""
    if output.suffix.lower() != ".zip":
        raise SimkitError(f"--output {output}: the export is a .zip file")
    ids = set(who.campaigns)
    engine = stores.engine()
    files: dict[str, bytes] = {}
    try:
        rows = _campaign_rows(engine, stores, ids)
        run_ids = {r["run_id"] for table in rows.values() for r in table if "run_id" in r}
        runs = [r for r in stores.runs(engine) if r["run_id"] in run_ids]
        for table, table_rows in rows.items():
            files[f"registry/{table}.json"] = json.dumps(
                table_rows, default=_json_default, indent=2, sort_keys=True
            ).encode()
        files["registry/runs.json"] = json.dumps(
            runs, default=_json_default, indent=2, sort_keys=True
        ).encode()
        for n, folder in enumerate(stores.output_dirs(engine)):
            for cid in sorted(ids):
                for campaign_dir in _campaign_folders(folder, cid):
                    for path in walk_files(campaign_dir):
                        rel = path.relative_to(folder).as_posix()
                        files[f"reports/{n}/{rel}"] = path.read_bytes()
    finally:
        engine.dispose()
    for entry in stores.cache_entries():
        blobs = {p: p.read_bytes() for p in walk_files(entry)}
        if any(contains(b, ids) for b in blobs.values()):
            for path, blob in blobs.items():
                files[f"cache/{path.relative_to(stores.cache_dir).as_posix()}"] = blob
    for label, folder in stores.response_caches():
        for _, key, blob in cached_replies(folder):
            if contains(blob, ids):
                name = hashlib.sha256(str(key).encode()).hexdigest()[:16]
                files[f"responses/{label}/{name}.json"] = blob
    entries = [e for cid in sorted(ids) for e in audit.entries(stores.audit_log, campaign=cid)]
    files["audit.jsonl"] = "".join(
        json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in entries
    ).encode()
    manifest = {
        "subject": {"campaigns": list(who.campaigns), "client": who.client},
        "created_at": datetime.now(UTC).isoformat(),
        "simkit": __version__,
        "files": {
            name: {"sha256": _sha256(b), "bytes": len(b)} for name, b in sorted(files.items())
        },
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, blob in sorted(files.items()):
            zf.writestr(name, blob)
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(output)
    audit.record(
        "export",
        path=stores.audit_log,
        campaigns=list(who.campaigns),
        client=who.client,
        n_files=len(files),
        output=output.name,
    )
    return manifest


@dataclass
class PurgeResult:
    """What :func:`purge` removed (counts by store) and which files it rewrote."""

    campaigns: tuple[str, ...]
    client: str | None
    rows_deleted: dict[str, int] = field(default_factory=dict)
    rows_scrubbed: dict[str, int] = field(default_factory=dict)
    runs_deleted: list[str] = field(default_factory=list)
    folders_deleted: int = 0
    files_deleted: int = 0
    files_scrubbed: int = 0
    cache_entries_deleted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaigns": list(self.campaigns),
            "client": self.client,
            "rows_deleted": self.rows_deleted,
            "rows_scrubbed": self.rows_scrubbed,
            "runs_deleted": self.runs_deleted,
            "folders_deleted": self.folders_deleted,
            "files_deleted": self.files_deleted,
            "files_scrubbed": self.files_scrubbed,
            "cache_entries_deleted": self.cache_entries_deleted,
        }


def _scrub_rows(engine: Engine, stores: Stores, needles: list[str], result: PurgeResult) -> None:
    """Scrub every text value naming a purged campaign, in every table."""
    for table in stores.tables(engine):
        columns = [c for c in table.c if _is_text(c)]
        if not columns:
            continue
        key = list(table.primary_key.columns) or list(table.c)
        with engine.begin() as conn:
            for row in conn.execute(select(table)).fetchall():
                values = row._mapping
                changes = {}
                for column in columns:
                    stored = values[column.name]
                    value = decrypt_stored(stored) if isinstance(stored, str) else stored
                    if isinstance(value, str) and contains(value.encode(), needles):
                        new = _scrub_value(value, needles)
                        # a value encrypted at rest stays encrypted
                        changes[column.name] = encrypt_stored(new) if is_encrypted(stored) else new
                if changes:
                    where = [k == values[k.name] for k in key]
                    conn.execute(update(table).where(*where).values(**changes))
                    result.rows_scrubbed[table.name] = result.rows_scrubbed.get(table.name, 0) + 1


def _is_text(column: Any) -> bool:
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return False


def _scrub_value(value: str, needles: list[str]) -> str:
    try:
        parsed = json.loads(value)
    except ValueError:
        return scrub_text(value, needles)
    if isinstance(parsed, (dict, list)):
        return json.dumps(scrub_json(parsed, needles), sort_keys=True)
    return scrub_text(value, needles)


def _scrub_file(path: Path, needles: list[str]) -> bool:
    """Rewrite a shared file without the needles; whether it changed."""
    data = path.read_bytes()
    if not contains(data, needles):
        return False
    if path.suffix in _JSON_SUFFIXES:
        try:
            new = json.dumps(scrub_json(json.loads(data), needles), indent=1)
        except ValueError:
            new = scrub_text(data.decode("utf-8", "replace"), needles)
    else:
        new = scrub_text(data.decode("utf-8", "replace"), needles)
    tmp = path.with_name(f".{path.name}.purge.tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)
    return True


def _forget_replies(folder: Path, keys: list[Any]) -> None:
    """Delete cached connector replies, then vacuum the cache's SQLite file (diskcache
    keeps small values in it) so the deleted text leaves no free page behind."""
    import diskcache  # the connectors' cache library

    cache = diskcache.Cache(str(folder))
    try:
        for key in keys:
            cache.delete(key)
    finally:
        cache.close()
    database = folder / "cache.db"
    if database.is_file():
        con = sqlite3.connect(database)
        try:
            con.execute("VACUUM")
        finally:
            con.close()


def _delete_tree(root: Path, folder: Path) -> None:
    ensure_inside(root, folder)
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)
    else:
        folder.unlink()


def purge(stores: Stores, who: Subject) -> PurgeResult:
    """Delete everything about ``who`` everywhere (see the module doc)."""
    ids = set(who.campaigns)
    needles = who.needles
    result = PurgeResult(who.campaigns, who.client)
    engine = stores.engine()
    try:
        output_dirs = stores.output_dirs(engine)
        metrics_files = stores.metrics_files(engine)
        written = [
            p for p in stores.written_params_files(engine) if contains(p.read_bytes(), needles)
        ]
        runs_of: dict[str, set[str]] = _all_campaign_ids(stores, engine)
        tables = stores.tables(engine)
        with engine.begin() as conn:
            for table in reversed(tables):  # children before parents
                if "campaign_id" not in table.c:
                    continue
                n = conn.execute(delete(table).where(table.c.campaign_id.in_(sorted(ids))))
                if n.rowcount:
                    result.rows_deleted[table.name] = n.rowcount
            emptied = [r for r, cids in runs_of.items() if cids and cids <= ids]
            for table in reversed(tables):
                if "run_id" in table.c and emptied:
                    n = conn.execute(delete(table).where(table.c.run_id.in_(emptied)))
                    if n.rowcount:
                        result.rows_deleted[table.name] = (
                            result.rows_deleted.get(table.name, 0) + n.rowcount
                        )
            result.runs_deleted = sorted(emptied)
        _scrub_rows(engine, stores, needles, result)
        if stores.is_sqlite:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM"))
    finally:
        engine.dispose()

    for folder in output_dirs:
        if not folder.is_dir():
            continue
        for cid in sorted(ids):
            for campaign_dir in _campaign_folders(folder, cid):
                _delete_tree(folder, campaign_dir)
                result.folders_deleted += 1
        for path in list(walk_files(folder)):
            if _scrub_file(path, needles):
                result.files_scrubbed += 1
    for entry in list(stores.cache_entries()):
        if any(contains(p.read_bytes(), needles) for p in walk_files(entry)):
            _delete_tree(stores.cache_dir, entry)
            result.cache_entries_deleted += 1
    for _label, folder in stores.response_caches():
        hits = [(c, k) for c, k, blob in cached_replies(folder) if contains(blob, needles)]
        if hits:
            _forget_replies(folder, [k for _, k in hits])
            result.cache_entries_deleted += len(hits)
    for path in written:
        path.unlink(missing_ok=True)
        result.files_deleted += 1
    for path in metrics_files:
        if path.is_file() and contains(path.read_bytes(), needles):
            kept = [
                line
                for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
                if not contains(line.encode(), needles)
            ]
            path.write_text("".join(kept), encoding="utf-8")
            result.files_scrubbed += 1
    for cid in ids:
        metrics.forget_campaign(cid)
    if stores.work_dir.is_dir():
        for path in list(walk_files(stores.work_dir)):
            if path.parent == stores.audit_log.parent and path.name.startswith(
                stores.audit_log.name
            ):
                continue  # the audit log is handled below, by forgetting
            if stores.cache_dir in path.parents or path.suffix in (".sqlite", ".lock"):
                continue
            if path.suffix in _TEXT_SUFFIXES | _JSON_SUFFIXES and _scrub_file(path, needles):
                result.files_scrubbed += 1
    audit.forget(
        campaigns=who.campaigns,
        clients=[who.client] if who.client else [],
        path=stores.audit_log,
    )
    audit.record(
        "purge",
        path=stores.audit_log,
        purged_campaigns=list(who.campaigns),
        purged_client=who.client,
        **{k: v for k, v in result.to_dict().items() if k not in ("campaigns", "client")},
    )
    return result


@dataclass
class GcResult:
    """What :func:`gc` removed (or would remove, ``dry_run``)."""

    older_than: str
    dry_run: bool
    runs: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    cache_entries: int = 0
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "older_than": self.older_than,
            "dry_run": self.dry_run,
            "runs": self.runs,
            "reports": self.reports,
            "cache_entries": self.cache_entries,
            "files": self.files,
        }


def _as_utc(value: Any) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def gc(
    stores: Stores, *, retention_days: int, dry_run: bool = False, now: datetime | None = None
) -> GcResult:
    """Remove runs, their reports and logs, and cache entries older than ``retention_days``.

    A run is old when it was created before the cut-off and is not running; a report is
    removed with its run (a campaign's folder whose ``summary.json`` names an old run).
    Cache entries and ``.failed`` notebooks go by their files' age.
    """
    if retention_days < 1:
        raise SimkitError("retention_days must be at least 1")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    result = GcResult(cutoff.isoformat(timespec="seconds"), dry_run)
    engine = stores.engine()
    try:
        old = [
            r
            for r in stores.runs(engine)
            if (created := _as_utc(r.get("created_at"))) is not None
            and created < cutoff
            and r.get("status") not in ("queued", "running")
        ]
        old_ids = sorted(r["run_id"] for r in old)
        result.runs = old_ids
        output_dirs = stores.output_dirs(engine)
        if old_ids and not dry_run:
            with engine.begin() as conn:
                tables = stores.tables(engine)
                for table in reversed(tables):  # children before parents
                    if "run_id" in table.c:
                        conn.execute(delete(table).where(table.c.run_id.in_(old_ids)))
    finally:
        engine.dispose()
    gone = set(old_ids)
    for folder in output_dirs:
        if not folder.is_dir():
            continue
        for summary in folder.glob("*/summary.json"):
            try:
                run_id = json.loads(summary.read_text(encoding="utf-8")).get("run_id")
            except (OSError, ValueError, AttributeError):
                continue
            if run_id in gone:
                result.reports.append(str(summary.parent))
                if not dry_run:
                    _delete_tree(folder, summary.parent)
        failed = folder / ".failed"
        for item in failed.glob("*") if failed.is_dir() else []:
            if datetime.fromtimestamp(item.stat().st_mtime, UTC) < cutoff:
                result.files.append(str(item))
                if not dry_run:
                    _delete_tree(folder, item)
    for run_id in old_ids:
        log = stores.work_dir / "logs" / f"{run_id}.log"
        if log.is_file():
            result.files.append(str(log))
            if not dry_run:
                ensure_inside(stores.work_dir, log).unlink()
    for entry in list(stores.cache_entries()):
        newest = max((p.stat().st_mtime for p in walk_files(entry)), default=0.0)
        if datetime.fromtimestamp(newest, UTC) < cutoff:
            result.cache_entries += 1
            if not dry_run:
                _delete_tree(stores.cache_dir, entry)
    if not dry_run:
        audit.record(
            "gc",
            path=stores.audit_log,
            retention_days=retention_days,
            n_runs=len(result.runs),
            n_reports=len(result.reports),
            n_cache_entries=result.cache_entries,
            n_files=len(result.files),
        )
    return result
