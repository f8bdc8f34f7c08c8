"""Parse published HTML for anything that would be fetched from the network."""

from __future__ import annotations

from html.parser import HTMLParser

_LOCAL = ("data:", "blob:", "#")


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in {"script": ("src",), "link": ("href",), "img": ("src",), "iframe": ("src",)}.get(
            tag, ()
        ):
            value = (a.get(key) or "").strip()
            if value and (
                value.startswith(("http:", "https:", "//"))
                or ("://" in value and not value.startswith(_LOCAL))
            ):
                self.refs.append(f"<{tag} {key}={value}>")


def external_references(html: str) -> list[str]:
    """Every script, stylesheet, image or frame the page would load from the network."""
    parser = _Refs()
    parser.feed(html)
    return parser.refs
