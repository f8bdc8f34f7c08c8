"""Issue 21's bar on the demo itself: ``publish: flagged`` renders HTML only for the
flagged campaigns, and the index links every campaign.

The demo is what ``make demo`` runs: ``simkit generate`` with the Makefile's arguments, then
``params/demo.yaml`` (its engines, paths and seed as they are), here with ``publish:
flagged`` and the output in a temporary folder.  ``tests/runner/test_summary_only.py``
checks the same on the small fixture; this checks it on the data and settings users see.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import pytest

from simkit.cli import main
from simkit.params import load_params
from simkit.paths import safe_name
from simkit.registry import Registry
from simkit.runner import run_batch
from simkit.runner.execute import flag_reasons

REPO = Path(__file__).resolve().parents[2]


def _make_demo_args() -> list[str]:
    """``simkit generate``'s arguments in the Makefile's ``demo`` target."""
    makefile = (REPO / "Makefile").read_text()
    end = re.search(r"^DEMO_END := (\S+)$", makefile, re.M)
    line = re.search(r"simkit generate \$\(DEMO_DIR\) (.+)$", makefile, re.M)
    assert end and line, "the Makefile's demo target moved: update this test"
    return line.group(1).replace("$(DEMO_END)", end.group(1)).split()


@pytest.mark.slow
def test_flagged_on_the_demo_renders_only_flagged_campaigns(tmp_path: Path) -> None:
    os.environ.setdefault("TQDM_DISABLE", "1")
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit) as done:
        main(["generate", str(tmp_path / "demo-data"), *_make_demo_args(), "--format", "json"])
    assert done.value.code == 0
    params = load_params(REPO / "params" / "demo.yaml").model_copy(
        update={
            "data": str(tmp_path / "demo-data" / "campaigns.csv"),
            "output_dir": str(tmp_path / "reports"),
            "publish": "flagged",
        }
    )
    registry = Registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    result = run_batch(params, workers=2, registry=registry, progress=False)
    assert result.ok, [o.error for o in result.failed]

    out = result.output_dir
    campaigns = [c["campaign_id"] for c in json.loads((out / "run.json").read_text())["campaigns"]]
    assert len(campaigns) == 6, campaigns
    summaries = {
        cid: json.loads((out / safe_name(cid) / "summary.json").read_text()) for cid in campaigns
    }
    expected = {
        cid
        for cid, s in summaries.items()
        if flag_reasons(s, params.flag_threshold, params.flag_pivot_gain)
    }
    # some, not all: otherwise "HTML only for the flagged ones" would hold vacuously
    assert 0 < len(expected) < len(campaigns), sorted(expected)
    with_html = {cid for cid in campaigns if (out / safe_name(cid) / "report.html").is_file()}
    assert with_html == expected
    index = (out / "index.html").read_text()
    for cid in campaigns:
        page = "report.html" if cid in expected else "summary.json"
        assert f'href="{safe_name(cid)}/{page}"' in index, cid
