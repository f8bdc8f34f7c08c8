"""Metadata from every source, merged field by field with one documented precedence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from simkit.data import ColumnMapping, load
from simkit.errors import DataError, ParamsError
from simkit.metadata import SOURCES, how_to_give, resolve_for_run, resolve_metadata
from simkit.params import RunParams


@pytest.fixture()
def bare(tmp_path: Path, test_data: Path) -> Path:
    """The report fixture's data with no metadata file beside it."""
    path = tmp_path / "campaigns.csv"
    shutil.copy(test_data / "report" / "campaigns.csv", path)
    return path


def _sidecar(path: Path, text: str) -> None:
    path.with_name(path.stem + "_meta.yaml").write_text("campaigns:\n" + text)


def test_each_source_outranks_the_ones_below_it(bare: Path, tmp_path: Path) -> None:
    data = pd.DataFrame({"campaign_id": ["C001", "C002"], "channel": ["search", "social"]})
    _sidecar(bare, "- {campaign_id: C001, industry: Sidecar, objective: leads, name: N1}\n")
    named = tmp_path / "named.csv"
    pd.DataFrame({"campaign_id": ["C001"], "industry": ["Named"], "name": ["Named 1"]}).to_csv(
        named, index=False
    )
    resolved = resolve_metadata(
        ["C001", "C002"],
        data=data,
        data_path=bare,
        mapping=ColumnMapping(metadata={"industry": "Mapping", "target_roas": 2.0}),
        metadata_file=named,
        run_wide={"industry": "Params", "target_cpa": 30.0, "platform": None},
        overrides={"C002": {"industry": "Override"}},
    )
    c1, c2 = resolved.for_campaign("C001"), resolved.for_campaign("C002")
    assert c1["industry"] == "Params" and c2["industry"] == "Override"
    assert resolved.source_of("C002", "industry") == "campaign_meta"
    assert (c1["name"], resolved.source_of("C001", "name")) == ("Named 1", "metadata file")
    assert (c1["target_roas"], resolved.source_of("C001", "target_roas")) == (2.0, "mapping")
    assert (c1["objective"], resolved.source_of("C001", "objective")) == ("leads", "sidecar")
    assert (c2["channel"], resolved.source_of("C002", "channel")) == ("social", "data")
    assert c1["target_cpa"] == c2["target_cpa"] == 30.0
    assert resolved.missing("C002", ["objective", "budget_daily"]) == ["objective", "budget_daily"]
    assert set(resolved.sources["C001"].values()) == set(SOURCES) - {"campaign_meta"}
    assert resolved.files == (bare.with_name("campaigns_meta.yaml"), named)


def test_a_platform_that_names_a_channel_overrides_the_files_channel(bare: Path) -> None:
    _sidecar(bare, "- {campaign_id: C001, channel: video, platform: youtube}\n")
    resolved = resolve_metadata(
        ["C001"], data_path=bare, run_wide={"platform": "Google Ads (search)"}
    )
    assert resolved.for_campaign("C001")["channel"] == "search"
    kept = resolve_metadata(["C001"], data_path=bare)
    assert kept.for_campaign("C001")["channel"] == "video", "youtube names no channel"


def test_no_source_at_all_is_not_an_error(bare: Path) -> None:
    resolved = resolve_metadata(["C001", "C002"], data_path=bare)
    assert resolved.for_campaign("C001") == {"campaign_id": "C001"} and resolved.files == ()
    assert list(resolved.campaigns["campaign_id"]) == ["C001", "C002"]


def test_what_is_given_is_checked(bare: Path, tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match=r"not in the data: 'C01' \(did you mean 'C001'"):
        resolve_metadata(["C001"], overrides={"C01": {"industry": "Retail"}})
    with pytest.raises(ParamsError, match=r"field 'metadata'.*'indstry' \(did you mean"):
        resolve_metadata(["C001"], mapping=ColumnMapping(metadata={"indstry": "Retail"}))
    mapping = tmp_path / "m.yaml"
    mapping.write_text("metadata: {industy: Retail}\n")
    with pytest.raises(ParamsError, match=r"m\.yaml.*'industy'"):
        resolve_metadata(["C001"], mapping=mapping)
    with pytest.raises(DataError, match="metadata file not found"):
        resolve_metadata(["C001"], metadata_file=tmp_path / "nope.yaml")


def test_the_mapping_can_carry_metadata_through_load(bare: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("metadata: {industry: Education, platform: facebook}\n")
    params = RunParams(data=str(bare), mapping=str(mapping), campaign_meta={"C002": {}})
    loaded, resolved = resolve_for_run(params, load(bare, mapping=mapping))
    assert loaded.campaigns.set_index("campaign_id").loc["C003", "industry"] == "Education"
    assert resolved.for_campaign("C001")["channel"] == "social"


def test_how_to_give_names_keys_that_exist() -> None:
    text = how_to_give("industry", "C101")
    assert "'industry: <name>'" in text and "'campaign_meta: {C101: {industry: ...}}'" in text
    assert "'metadata: <file>'" in text and "<data>_meta.yaml" in text
    fields = set(RunParams.model_fields)
    assert {"industry", "campaign_meta", "metadata"} <= fields
    assert "'targets: {cpa: <value>}'" in how_to_give("target_cpa") and "targets" in fields


def test_a_run_with_a_bad_metadata_file_fails_before_any_kernel_starts(
    bare: Path, tmp_path: Path
) -> None:
    from simkit.registry import Registry
    from simkit.runner import run_batch

    meta = tmp_path / "meta.yaml"
    meta.write_text("campaigns:\n- {campaign_id: C001, industri: Retail}\n")
    out = tmp_path / "out"
    params = RunParams(data=str(bare), metadata=str(meta), output_dir=str(out))
    registry = Registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    with pytest.raises(DataError, match=r"meta\.yaml.*'industri' \(did you mean 'industry'"):
        run_batch(params, registry=registry, progress=False)
    assert not out.exists()


def test_a_metadata_file_read_again_is_its_current_content(tmp_path: Path) -> None:
    # parsed once per process while unchanged (a batch's worker reads it for every
    # report); a changed file is read again, and no caller can change another's table
    import os

    from simkit.data.validate import load_metadata

    path = tmp_path / "meta.yaml"
    path.write_text("campaigns:\n  - campaign_id: C001\n    industry: Travel\n")
    first = load_metadata(path)
    first.loc[0, "industry"] = "changed by a caller"
    assert load_metadata(path).loc[0, "industry"] == "Travel"
    path.write_text("campaigns:\n  - campaign_id: C001\n    industry: Retail\n")
    os.utime(path, ns=(1, 1))  # even a file rewritten within the clock's resolution
    assert load_metadata(path).loc[0, "industry"] == "Retail"
    path.write_text("campaigns: [oops\n")
    with pytest.raises(DataError, match="not valid YAML"):
        load_metadata(path)
