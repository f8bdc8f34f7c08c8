"""Object storage for a batch: ``data`` and ``output_dir`` as fsspec URLs (``s3://...``).

A remote ``data`` file is copied once into ``.simkit-cache/remote/`` (named by
:func:`~simkit.paths.safe_name` of its URL) and read from there, so every worker reads a
local file.  A remote ``output_dir`` is written locally first, in the run's own folder
under ``.simkit-cache/publish/``, and published when the run ends: every file is uploaded
under ``<output_dir>/.staging/<run id>/``, then moved (copied, then the staged copy
deleted) to its place, ``index.html`` and ``run.json`` last, so a reader of the bucket sees
either the previous index or the new one, never a half-written report.  Object stores have
no atomic rename of a folder: each object's copy is atomic, and the index that links the
reports is published only after all of them are in place.

Credentials come from the environment as fsspec and its backends read them (for S3:
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, a profile); they
are never parameters and never written anywhere.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from simkit.errors import SimkitError
from simkit.paths import safe_name

__all__ = ["fetch_data", "is_remote", "publish_folder"]

log = logging.getLogger(__name__)

#: Published last, in this order: what links the rest.
_LAST = ("run.json", "index.html")


def is_remote(path: str | None) -> bool:
    """Whether ``path`` is a URL of a remote filesystem (``s3://``, ``gs://``...)."""
    if path is None or "://" not in path:
        return False
    return not path.startswith("file://")


def _fs(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec comes with pandas' extras
        raise SimkitError("object storage needs fsspec (and s3fs for s3://)") from exc
    try:
        fs, root = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise SimkitError(f"cannot open {url.split('://')[0]}:// storage: {exc}") from None
    return fs, root


def fetch_data(url: str, cache_dir: str | Path) -> Path:
    """A local copy of the remote file ``url`` (fetched again when its size or ETag
    changed)."""
    fs, path = _fs(url)
    try:
        info = fs.info(path)
    except FileNotFoundError:
        raise SimkitError(f"data file not found: {url}") from None
    except OSError as exc:
        raise SimkitError(f"cannot read {url}: {type(exc).__name__}") from None
    stamp = str(info.get("ETag") or info.get("etag") or info.get("mtime") or "")
    folder = Path(cache_dir) / "remote" / safe_name(url)
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(path).name or "data"
    local = folder / name
    marker = folder / ".source"
    mark = f"{info.get('size')}:{stamp}"
    if not (local.is_file() and marker.is_file() and marker.read_text() == mark):
        tmp = folder / f".{name}.part"
        fs.get(path, str(tmp))
        tmp.replace(local)
        marker.write_text(mark)
    return local


def publish_folder(local: Path, url: str, run_id: str) -> int:
    """Upload ``local`` (a finished run's output folder) to ``url``: staged under
    ``.staging/<run id>/``, then moved into place, the index last.  Returns the number of
    files published."""
    fs, root = _fs(url)
    root = root.rstrip("/")
    files = sorted(
        p for p in local.rglob("*") if p.is_file() and not p.name.startswith(".simkit.lock")
    )
    files = [p for p in files if ".staging" not in p.relative_to(local).parts]
    rel = [p.relative_to(local).as_posix() for p in files]
    ordered = [r for r in rel if r not in _LAST] + [r for r in _LAST if r in rel]
    staging = f"{root}/.staging/{run_id}"
    try:
        for r in ordered:
            fs.put_file(str(local / r), f"{staging}/{r}")
        for r in ordered:
            fs.copy(f"{staging}/{r}", f"{root}/{r}")
    except OSError as exc:
        raise SimkitError(
            f"publishing to {url} failed ({type(exc).__name__}); the reports are kept in {local}"
        ) from None
    finally:
        try:
            fs.rm(staging, recursive=True)
        except (OSError, FileNotFoundError):
            log.info("could not remove the staged copy %s", staging)
    return len(ordered)
