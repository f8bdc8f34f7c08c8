"""Backups and recovery: ``simkit backup DIR`` and ``simkit restore DIR``.

A backup folder holds::

    DIR/manifest.json          what is where, every file's SHA-256 and size, row counts
    DIR/registry.sqlite        a SQLite registry, copied with SQLite's online backup API
                               (consistent while runs write to it), or
    DIR/registry.pgdump        a Postgres registry, ``pg_dump --format=custom``
    DIR/reports/<n>/...        each recorded run's output folder (reports, index, run.json)
    DIR/audit/audit.jsonl      the audit log, its head and its subjects table

The forecast cache is left out: it is rebuilt on demand.  :func:`restore` checks every
file against the manifest first (a changed or missing file is named and nothing is
restored), then puts the registry, the output folders and the audit log back where the
manifest says they were; it refuses to overwrite a registry or a folder that is there
unless ``force``.  The password of a Postgres URL is passed to ``pg_dump`` / ``pg_restore``
in their environment (``PGPASSWORD``), never on the command line, and never written to the
manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from simkit import __version__, audit
from simkit.errors import SimkitError
from simkit.ops.stores import Stores, walk_files

__all__ = ["backup", "restore", "verify_backup"]

MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_tool(command: list[str], env: dict[str, str]) -> None:
    """Run ``pg_dump`` or ``pg_restore``; a missing tool or a failure is one line (the
    tool's last stderr line; the password never is: it reaches libpq as ``PGPASSWORD``)."""
    tool = command[0]
    try:
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=3600)
    except FileNotFoundError:
        raise SimkitError(f"{tool} is not installed (the Postgres client tools)") from None
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
        raise SimkitError(f"{tool} failed: {' '.join(last) or exc.returncode}") from None


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy Postgres URL as a libpq URL without its password, and the password
    as ``PGPASSWORD`` in an environment."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _row_counts(stores: Stores) -> dict[str, int]:
    engine = stores.engine()
    try:
        counts = {}
        with engine.connect() as conn:
            for table in stores.tables(engine):
                counts[table.name] = int(
                    conn.execute(select(func.count()).select_from(table)).scalar()
                )
        return counts
    finally:
        engine.dispose()


def backup(stores: Stores, folder: Path) -> dict[str, Any]:
    """Write a backup of the registry, the reports and the audit log to ``folder``."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise SimkitError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    engine = stores.engine()
    try:
        output_dirs = stores.output_dirs(engine)
    finally:
        engine.dispose()
    manifest: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(),
        "simkit": __version__,
        "registry": {"backend": "sqlite" if stores.is_sqlite else "postgresql"},
        "rows": _row_counts(stores),
        "output_dirs": {},
        "audit_log": str(stores.audit_log.resolve()),
        "files": {},
    }
    if stores.is_sqlite:
        source = stores.sqlite_file
        if source is None or not source.is_file():
            raise SimkitError(f"no registry database at {source}")
        manifest["registry"]["path"] = str(source.resolve())
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(folder / "registry.sqlite")
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
    else:
        url, env = _libpq(stores.registry)
        dump = folder / "registry.pgdump"
        _pg_tool(["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={url}"], env)
        manifest["registry"]["url"] = make_url(stores.registry).render_as_string(hide_password=True)
    for n, out in enumerate(sorted(output_dirs, key=str)):
        if not out.is_dir():
            continue
        manifest["output_dirs"][str(n)] = str(out.resolve())
        shutil.copytree(out, folder / "reports" / str(n), symlinks=True)
    # recorded before the log is copied, so that the backup holds its own entry
    audit.record(
        "backup",
        path=stores.audit_log,
        folder=str(folder.resolve()),
        rows=manifest["rows"],
        output_dirs=len(manifest["output_dirs"]),
    )
    log = stores.audit_log
    for suffix in ("", ".head", ".subjects"):
        source = log.with_name(log.name + suffix)
        if source.is_file():
            (folder / "audit").mkdir(exist_ok=True)
            shutil.copy2(source, folder / "audit" / ("audit.jsonl" + suffix))
    for path in sorted(walk_files(folder)):
        rel = path.relative_to(folder).as_posix()
        manifest["files"][rel] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def verify_backup(folder: Path) -> dict[str, Any]:
    """The backup's manifest, once every file it lists is there with its hash."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SimkitError(f"{folder} has no readable {MANIFEST}: not a simkit backup") from None
    for rel, info in manifest["files"].items():
        path = folder / rel
        if not path.is_file():
            raise SimkitError(f"backup file {rel} is missing")
        if _sha256(path) != info["sha256"]:
            raise SimkitError(f"backup file {rel} does not match its SHA-256 in the manifest")
    return manifest


def restore(stores: Stores, folder: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore a backup written by :func:`backup` (see the module doc)."""
    folder = Path(folder)
    manifest = verify_backup(folder)
    backend = manifest["registry"]["backend"]
    if backend == "sqlite" and not stores.is_sqlite:
        raise SimkitError("the backup holds a SQLite registry; restore it to a SQLite URL")
    if backend != "sqlite" and stores.is_sqlite:
        raise SimkitError("the backup holds a Postgres dump; restore it to a Postgres URL")
    targets = {
        n: Path(path)
        for n, path in manifest["output_dirs"].items()
        if (folder / "reports" / n).is_dir()
    }
    busy = [str(t) for t in targets.values() if t.exists() and any(t.iterdir())]
    if backend == "sqlite":
        target = stores.sqlite_file
        if target is None:
            raise SimkitError("restore needs a SQLite registry file, not :memory:")
        if target.exists() and target.stat().st_size and not force:
            busy.insert(0, str(target))
    if busy and not force:
        raise SimkitError(
            f"refusing to overwrite {', '.join(busy)} (restore --force replaces them)"
        )
    if backend == "sqlite":
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{folder / 'registry.sqlite'}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
    else:
        url, env = _libpq(stores.registry)
        dump = folder / "registry.pgdump"
        _pg_tool(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={url}", str(dump)],
            env,
        )
    for n, target_dir in targets.items():
        if target_dir.exists():
            shutil.rmtree(target_dir)
        shutil.copytree(folder / "reports" / n, target_dir, symlinks=True)
    log = stores.audit_log
    for suffix in ("", ".head", ".subjects"):
        source = folder / "audit" / ("audit.jsonl" + suffix)
        if source.is_file():
            log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, log.with_name(log.name + suffix))
    audit.record(
        "restore",
        path=stores.audit_log,
        folder=str(folder.resolve()),
        backup_created_at=manifest["created_at"],
        n_files=len(manifest["files"]),
    )
    return manifest
