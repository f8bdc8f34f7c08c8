"""Where fetched and enriched data go: the contract file and its sidecars, written whole.

A fetch writes ``FILE`` (the data), ``<stem>_meta.csv`` beside it when it knows the
campaigns' names (read by ``simkit validate`` as the metadata sidecar), and
``FILE.provenance.json``: what was asked, what was mapped, what the fetch did.  Every
file is written beside its target and renamed into place, so a failed fetch leaves the
previous file as it was.  Everything written is scrubbed of the keys read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from simkit import __version__
from simkit.errors import DataError
from simkit.keys import scrub
from simkit.paths import atomic_write_text
from simkit.sheets import csv_text

__all__ = ["check_output", "metadata_path", "provenance_path", "write_frame", "write_json"]


def provenance_path(output: Path) -> Path:
    return output.with_name(output.name + ".provenance.json")


def metadata_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}_meta.csv")


def check_output(*paths: Path) -> None:
    """Refuse, before any request is sent, an output that cannot be written: a folder
    given as the file, or a parent that is a file."""
    for path in paths:
        if path.is_dir():
            raise DataError("is a folder: --output names the file to write", file=str(path))
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise DataError(f"cannot be written: {parent} is a file, not a folder", file=str(path))


def _write(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise DataError(f"cannot write it ({type(exc).__name__})", file=str(path)) from None


def write_frame(frame: pd.DataFrame, output: Path) -> None:
    """``frame`` as CSV at ``output`` (atomically)."""
    # text cells starting = + - @ are neutralised for spreadsheets (simkit.sheets)
    _write(output, scrub(csv_text(frame, lineterminator="\n")))


def write_json(payload: dict[str, Any], path: Path) -> None:
    """``payload`` (with simkit's version) as JSON at ``path`` (atomically)."""
    body = {**payload, "simkit_version": __version__}
    _write(path, scrub(json.dumps(body, indent=2, default=str, sort_keys=False)) + "\n")
