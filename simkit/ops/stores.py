"""Every place simkit keeps something, found from the registry, and the scrubbing helpers.

The stores are: the registry database (every table, reflected, so tables other modules add
later, such as the ledger's, are covered without a change here), the output folders of the
recorded runs (reports, staging, ``.failed``, ``.old-*``, ``run.json``, ``pivots.json``,
the index and the portfolio notebook), simkit's working folder ``.simkit-cache`` beside
the registry (run logs, the dashboard's run logs, the webhook's alert state), the forecast
cache (joblib entries under ``.simkit-cache/joblib``), the parameter files simkit wrote
(the dashboard's new-run form, under ``params/dashboard``, recognised by their header),
the metrics textfiles named in the recorded runs' params, and the audit log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, event, select
from sqlalchemy.engine import Engine, make_url

from simkit import audit
from simkit.crypto import decrypt_stored
from simkit.errors import SimkitError
from simkit.registry import registry_url

__all__ = ["PURGED", "Stores", "contains", "scrub_json", "scrub_text"]

#: What a purged id or name is replaced with where a shared file keeps its place.
PURGED = "[purged]"
#: The first line of a parameter file simkit wrote (the dashboard's new-run form).
WRITTEN_BY_SIMKIT = "# written by the simkit"


@dataclass(frozen=True)
class Stores:
    """Where one registry's data lives.

    Parameters
    ----------
    registry
        The registry URL (``--registry``; default ``$SIMKIT_REGISTRY_URL`` or SQLite).
    work_dir
        simkit's folder (``.simkit-cache``): that of a SQLite registry, else the working
        folder's.
    """

    registry: str
    work_dir: Path
    audit_log: Path

    @classmethod
    def open(cls, registry: str | None = None) -> Stores:
        url = registry_url(registry)
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            work = Path(parsed.database).parent
        else:
            work = Path(".simkit-cache")
        return cls(url, work.resolve(), audit.audit_path(url))

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.registry).get_backend_name() == "sqlite"

    @property
    def sqlite_file(self) -> Path | None:
        parsed = make_url(self.registry)
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            return Path(parsed.database)
        return None

    def engine(self) -> Engine:
        """An engine on the registry; on SQLite every connection has ``secure_delete`` on
        (the pages a delete frees are zeroed, so a purged row leaves no trace in them)."""
        try:
            engine = create_engine(self.registry)
        except Exception as exc:
            raise SimkitError(f"cannot open the registry: {type(exc).__name__}") from None
        if self.is_sqlite:
            event.listen(engine, "connect", _secure_delete)
        return engine

    def tables(self, engine: Engine) -> list[Table]:
        """Every table of the registry database, reflected."""
        meta = MetaData()
        meta.reflect(bind=engine)
        return list(meta.sorted_tables)

    def runs(self, engine: Engine) -> list[dict[str, Any]]:
        """The recorded runs' rows (``run_id``, ``output_dir``, ``params``, ...)."""
        by_name = {t.name: t for t in self.tables(engine)}
        if "runs" not in by_name:
            return []
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(by_name["runs"]))]
        for row in rows:
            row["params"] = _params(row.get("params"))
        return rows

    def output_dirs(self, engine: Engine) -> list[Path]:
        seen: dict[str, Path] = {}
        for run in self.runs(engine):
            if run.get("output_dir"):
                seen.setdefault(str(run["output_dir"]), Path(run["output_dir"]))
        return list(seen.values())

    @property
    def cache_dir(self) -> Path:
        return self.work_dir / "joblib"

    def cache_entries(self) -> Iterator[Path]:
        """Each cached fit's folder (joblib: ``.../<function>/<hash>/output.pkl``)."""
        if not self.cache_dir.is_dir():
            return
        for output in self.cache_dir.rglob("output.pkl"):
            yield output.parent

    def response_caches(self) -> list[tuple[str, Path]]:
        """``(label, folder)`` of each reply cache: the connectors' HTTP response caches
        (diskcache folders under ``http/``, labelled by connector) and the language
        model's reply cache (``llm/replies``, labelled ``llm``)."""
        root = self.work_dir / "http"
        caches = (
            [(p.name, p) for p in sorted(root.iterdir()) if p.is_dir()] if root.is_dir() else []
        )
        replies = self.work_dir / "llm" / "replies"
        return caches + ([("llm", replies)] if replies.is_dir() else [])

    def metrics_files(self, engine: Engine) -> list[Path]:
        files = {
            str(run["params"].get("metrics_textfile"))
            for run in self.runs(engine)
            if isinstance(run["params"], dict) and run["params"].get("metrics_textfile")
        }
        return [Path(f) for f in sorted(files)]

    def written_params_files(self, engine: Engine) -> list[Path]:
        """The parameter files simkit wrote (by their first line), of the recorded runs."""
        out = []
        for run in self.runs(engine):
            name = run.get("params_file")
            if not name:
                continue
            path = Path(name)
            try:
                with path.open(encoding="utf-8") as fh:
                    first = fh.readline()
            except OSError:
                continue
            if first.startswith(WRITTEN_BY_SIMKIT):
                out.append(path)
        return out


def _secure_delete(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=ON")


def _params(value: Any) -> Any:
    value = decrypt_stored(value) if isinstance(value, str) else value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _needles(ids: Iterable[str]) -> list[str]:
    found = set()
    for value in ids:
        if value:
            found.add(value)
            found.add(escape(value))
            found.add(escape(value, quote=False))
    # the longest first, so a name holding the id is replaced whole
    return sorted(found, key=len, reverse=True)


def contains(data: bytes, ids: Iterable[str]) -> bool:
    """Whether ``data`` holds any of ``ids`` (as UTF-8, HTML-escaped or JSON-escaped)."""
    for value in ids:
        forms = {value, escape(value), json.dumps(value)[1:-1]}
        if any(form.encode("utf-8", "surrogatepass") in data for form in forms if form):
            return True
    return False


def scrub_text(text: str, ids: Iterable[str]) -> str:
    """``text`` with every id (and its HTML-escaped form) replaced by :data:`PURGED`."""
    for needle in _needles(ids):
        text = text.replace(needle, PURGED)
    return text


def scrub_json(value: Any, ids: Iterable[str]) -> Any:
    """A JSON value without the ids: list items and dict keys equal to one are dropped,
    strings holding one have it replaced by :data:`PURGED`."""
    ids = list(ids)
    exact = set(ids)

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {scrub_text(str(k), ids): walk(item) for k, item in v.items() if k not in exact}
        if isinstance(v, list):
            return [walk(item) for item in v if not (isinstance(item, str) and item in exact)]
        if isinstance(v, str):
            return scrub_text(v, ids)
        return v

    return walk(value)


def cached_replies(folder: Path) -> Iterator[tuple[Any, Any, bytes]]:
    """Each ``(cache, key, text)`` of a reply cache (diskcache): a connector's values are
    dicts with the body under ``text``, the language model's are JSON text."""
    import diskcache  # the connectors' cache library, loaded only when a cache exists

    cache = diskcache.Cache(str(folder))
    try:
        for key in list(cache.iterkeys()):
            value = cache.get(key)
            text = value.get("text", "") if isinstance(value, dict) else value
            text = text if isinstance(text, str) else ""
            yield cache, key, json.dumps({"key": str(key), "text": text}).encode()
    finally:
        cache.close()


def walk_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root`` (symlinks are not followed)."""
    for folder, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path
