"""Names are data, not paths: one safe folder name per id, and writes kept inside a root.

A campaign id comes from the user's data, so it may hold ``/``, ``..``, control
characters, a leading ``/``, or be thousands of characters long.  Every place that turns an
id into a file or folder name calls :func:`safe_name`; every write, move and delete the
runner makes is checked first with :func:`ensure_inside`.

>>> safe_name("C001")
'C001-a4906a54'
>>> safe_name("../victimA").startswith("victimA-")
True
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from pathlib import Path

from simkit.errors import SimkitError

__all__ = [
    "MAX_NAME_CHARS",
    "PathOutsideRootError",
    "atomic_write_text",
    "ensure_inside",
    "safe_name",
]

#: Longest name :func:`safe_name` returns (well under the 255 bytes of common filesystems).
MAX_NAME_CHARS = 64
_HASH_CHARS = 8
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class PathOutsideRootError(SimkitError):
    """A path that would be written or deleted lies outside the folder it must stay in."""


def safe_name(identifier: str) -> str:
    """A folder or file name for ``identifier``: a readable ASCII slug plus a short hash.

    The slug keeps letters, digits, ``_``, ``.`` and ``-`` (accents are folded, anything
    else becomes ``-``), with no leading dot or underscore, so it is never ``.``, ``..``,
    hidden, or one of the runner's own folders (``_portfolio``).  The hash is of the exact
    id, lower-case hex, so two distinct ids never share a name, even on a case-insensitive
    filesystem (``C1`` and ``c1`` differ in their hash, and the slug alone never decides).
    At most :data:`MAX_NAME_CHARS` characters, never empty.

    Examples
    --------
    >>> safe_name("/abs/dir").startswith("abs-dir-")
    True
    >>> len(safe_name("x" * 10_000)) <= MAX_NAME_CHARS
    True
    """
    digest = hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()
    folded = unicodedata.normalize("NFKD", identifier).encode("ascii", "ignore").decode()
    slug = _UNSAFE.sub("-", folded).strip("-._")
    slug = slug[: MAX_NAME_CHARS - _HASH_CHARS - 1].rstrip("-.")
    return f"{slug}-{digest[:_HASH_CHARS]}" if slug else f"id-{digest[:_HASH_CHARS]}"


def ensure_inside(root: str | Path, path: str | Path) -> Path:
    """``path`` resolved (symlinks included), or :class:`PathOutsideRootError` if it is
    not strictly inside ``root`` (also resolved).

    Call it before every write, move or delete: a symlink planted in the output folder,
    or a name with ``..``, cannot send the write elsewhere.  ``root`` itself is refused, so
    a delete can never take the whole folder.
    """
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real == real_root or real_root not in real.parents:
        raise PathOutsideRootError(
            f"refusing to touch {path}: it is not inside the output folder {real_root}"
        )
    return real


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file beside its target, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write or rename leaves no stray file
        raise
