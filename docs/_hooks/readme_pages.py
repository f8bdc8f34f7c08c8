"""mkdocs hook: the README, split at its ``## `` headings, becomes the site's guide pages.

The README stays the front door (GitHub, PyPI); the site shows the same text, one page per
section, so the two never drift apart.  Links into ``docs/`` are rewritten to the site's
root (the README links ``docs/report.png``, the site serves ``report.png``).
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File, Files

README = Path(__file__).resolve().parents[2] / "README.md"


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def sections() -> list[tuple[str, str]]:
    """``(page path, markdown)`` pairs: the introduction and "Start here" as ``index.md``,
    then one page per section under ``guide/``."""
    text = README.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    intro, rest = parts[0], parts[1:]
    pages = [("index.md", intro + ("## " + rest[0] if rest else ""))]
    for part in rest[1:]:
        title = part.splitlines()[0].strip()
        body = "# " + part
        pages.append((f"guide/{slug(title)}.md", body))
    fixed = []
    for path, body in pages:
        prefix = "../" if path.startswith("guide/") else ""
        body = re.sub(r"\]\(docs/", f"]({prefix}", body)
        fixed.append((path, body))
    return fixed


def on_files(files: Files, config) -> Files:  # noqa: ANN001 - mkdocs' hook signature
    for path, body in sections():
        files.append(File.generated(config, path, content=body))
    return files
