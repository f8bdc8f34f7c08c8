"""A real batch over campaign ids that look like paths and markup (issue 15, item 1)."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simkit.params import RunParams
from simkit.paths import safe_name
from simkit.registry import Registry
from simkit.runner import run_batch

from .conftest import LEAN

pytestmark = pytest.mark.slow


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        if tag == "script":
            self.scripts += 1


def _tree(root: Path, skip: Path) -> dict[str, bytes]:
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if skip in path.parents or ".simkit-cache" in path.parts:
                continue
            out[str(path.relative_to(root))] = path.read_bytes()
    return out


def test_ids_that_look_like_paths_stay_inside_the_output_folder(
    tmp_path: Path, test_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    victim_b = tmp_path / "victimB"
    ids = {
        "C001": "../victimA",
        "C002": str(victim_b),  # an absolute path
        "C003": "<script>x</script>/a/b",
    }
    raw = pd.read_csv(test_data / "report" / "campaigns.csv")
    raw["campaign_id"] = raw["campaign_id"].map(ids)
    raw["creative_id"] = raw["campaign_id"] + "-cr1"
    data = tmp_path / "data" / "campaigns.csv"
    data.parent.mkdir()
    raw.to_csv(data, index=False)
    meta = yaml.safe_load((test_data / "report" / "campaigns_meta.yaml").read_text())
    for item in meta["campaigns"]:
        item["campaign_id"] = ids[item["campaign_id"]]
    (data.parent / "campaigns_meta.yaml").write_text(yaml.safe_dump(meta))
    # folders the old runner wrote into, and emptied on the next run
    for victim in (tmp_path / "victimA", victim_b):
        victim.mkdir()
        (victim / "keep.txt").write_text("mine")
    out = tmp_path / "work" / "reports"
    before = _tree(tmp_path, out)
    registry = Registry(f"sqlite:///{tmp_path / 'work' / 'r.sqlite'}")
    result = run_batch(
        RunParams(data=str(data), output_dir=str(out), **LEAN),
        workers=2,
        registry=registry,
        progress=False,
    )
    assert result.ok, [o.error for o in result.failed]
    after = _tree(tmp_path, out)
    # the registry and, beside it, the audit log (issue 20) are the run's own stores
    stores = ("work/r.sqlite", "work/audit.jsonl")
    assert {k: v for k, v in after.items() if not k.startswith(stores)} == before, (
        "nothing outside the output folder was written or deleted"
    )
    audit = (tmp_path / "work" / "audit.jsonl").read_text()
    assert "run.started" in audit
    assert "victim" not in audit and "<script>" not in audit  # campaigns by pseudonym
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        [
            *(safe_name(i) for i in ids.values()),
            "_portfolio",
            "index.html",
            "pivots.json",
            "run.json",
        ]
    )
    for cid in ids.values():
        summary = json.loads((out / safe_name(cid) / "summary.json").read_text())
        assert summary["campaign_id"] == cid and summary["run_id"] == result.run_id
    page = _Page()
    index = (out / "index.html").read_text()
    page.feed(index)
    assert sorted(link for link in page.links if link.endswith("report.html")) == sorted(
        f"{safe_name(i)}/report.html" for i in ids.values()
    )
    assert "&lt;script&gt;x&lt;/script&gt;/a/b" in index and "<script>x</script>" not in index
    manifest = json.loads((out / "run.json").read_text())
    assert [c["campaign_id"] for c in manifest["campaigns"]] == [
        c["campaign_id"] for c in registry.get_run(result.run_id)["campaigns"]
    ]
    assert {c["campaign_id"] for c in manifest["campaigns"]} == set(ids.values())
