"""The docs site (issue 22): the README's sections become its pages, nothing is fetched from
the network, and the build is strict.  `make docs` builds it in CI (.ci/run)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str):  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = _load(REPO / "docs" / "_hooks" / "readme_pages.py", "readme_pages")
build_docs = _load(REPO / "scripts" / "build_docs.py", "build_docs")


def _config() -> dict:
    return yaml.safe_load((REPO / "mkdocs.yml").read_text())


def _nav_pages(nav) -> list[str]:  # noqa: ANN001
    out = []
    for item in nav:
        value = item if isinstance(item, str) else next(iter(item.values()))
        out.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return out


def test_every_readme_section_is_a_page_in_the_nav() -> None:
    pages = dict(hook.sections())
    headings = re.findall(r"^## (.+)$", (REPO / "README.md").read_text(), flags=re.MULTILINE)
    assert len(pages) == len(headings)  # "Start here" joins the introduction on index.md
    assert pages["index.md"].startswith("# simkit")
    assert "## Start here" in pages["index.md"]
    assert sorted(_nav_pages(_config()["nav"])) == sorted(
        [*pages, *(f"notebooks/{n}.ipynb" for n in build_docs.NOTEBOOKS),
         "api/entry-points.md", "api/results.md", "api/members.md"]
    )  # fmt: skip
    # the README's links into docs/ point at the site root
    workbench = pages["guide/the-data-scientist-s-workbench.md"]
    assert "](../quickstart.png)" in workbench and "](docs/" not in workbench


def test_the_site_is_strict_and_uses_no_web_fonts() -> None:
    config = _config()
    assert config["strict"] is True
    assert config["theme"]["font"] is False
    jupyter = next(
        p["mkdocs-jupyter"]
        for p in config["plugins"]
        if isinstance(p, dict) and "mkdocs-jupyter" in p
    )
    assert jupyter["execute"] is False and jupyter["include_requirejs"] is False


def test_the_fetch_check_finds_cdn_loads_and_spares_plain_links(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        "<a href='https://example.org/'>a link is fine</a>"
        "<script>var widgetRendererSrc = 'https://unpkg.com/x/embed-amd.js';</script>"
        '<script>if (d.length) { await import("https://cdnjs.cloudflare.com/ajax/libs/mermaid/m.mjs") }</script>'
    )
    (tmp_path / "b.html").write_text(
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css">'
    )
    (tmp_path / "c.html").write_text(
        '<img src="data:image/png;base64,AAAA"><script src="assets/x.js"></script>'
    )
    found = build_docs.external_fetches(tmp_path)
    assert len(found) == 2
    assert "a.html: script loads https://unpkg.com/x/embed-amd.js" in found
    assert found[0].startswith("b.html") or found[1].startswith("b.html")


def test_static_copies_replace_widgets_with_a_note(tmp_path: Path) -> None:

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("explorer")
    cell.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={
                "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                "text/plain": "VBox",
            },
            execution_count=1,
        )
    ]
    nb.cells = [cell]
    path = tmp_path / "w.ipynb"
    nbformat.write(nb, path)
    build_docs.static_widgets(path)
    data = nbformat.read(path, as_version=4).cells[0].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" not in data
    assert "Interactive in JupyterLab" in data["text/html"]
