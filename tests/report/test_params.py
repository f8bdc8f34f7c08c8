from __future__ import annotations

import keyword
from pathlib import Path

import pytest

from simkit.errors import ParamsError
from simkit.params import (
    SECRET_NAME,
    RunParams,
    check_parameter_names,
    load_params,
    params_hash,
    validate_params,
)


def test_only_data_is_required() -> None:
    params = RunParams(data="x.csv")
    assert params.campaigns == "all"
    assert params.horizon_days == 30
    with pytest.raises(ParamsError, match="field 'data'.*required"):
        validate_params({})


def test_unknown_key_is_rejected_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("data: d.csv\nhorizon_day: 14\n")
    with pytest.raises(ParamsError, match="unknown key") as err:
        load_params(path)
    assert "p.yaml" in str(err.value)
    assert "field 'horizon_day'" in str(err.value)
    assert "did you mean 'horizon_days'" in str(err.value)


def test_bad_values_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("data: d.csv\nhorizon_days: 0\n")
    with pytest.raises(ParamsError, match="field 'horizon_days'"):
        load_params(path)
    with pytest.raises(ParamsError, match="field 'campaigns'"):
        validate_params({"data": "d.csv", "campaigns": ["A", "A"]})
    with pytest.raises(ParamsError, match="field 'members"):
        validate_params({"data": "d.csv", "members": ["ets; import os"]})


def test_relative_paths_resolve_against_the_parameter_file(tmp_path: Path) -> None:
    (tmp_path / "params").mkdir()
    path = tmp_path / "params" / "run.yaml"
    path.write_text("data: ../data/c.csv\noutput_dir: out\n")
    params = load_params(path)
    assert params.data == str(tmp_path / "data" / "c.csv")
    assert params.output_dir == str(tmp_path / "params" / "out")
    assert params.mapping is None


def test_params_are_frozen_and_hash_is_stable() -> None:
    a, b = RunParams(data="x.csv", seed=1), RunParams(data="x.csv", seed=1)
    assert params_hash(a) == params_hash(b)
    assert params_hash(a) != params_hash(RunParams(data="x.csv", seed=2))
    with pytest.raises(ValueError, match="frozen"):
        a.seed = 3  # type: ignore[misc]


def test_every_field_is_a_safe_papermill_parameter_and_none_holds_a_secret() -> None:
    for name in RunParams.model_fields:
        assert name.isidentifier() and not keyword.iskeyword(name)
        assert not SECRET_NAME.search(name), name
    check_parameter_names(list(RunParams.model_fields))


@pytest.mark.parametrize("name", ["x; import os", "1abc", "class", "a-b", "", "x\ny"])
def test_names_that_are_not_identifiers_are_refused(name: str) -> None:
    with pytest.raises(ParamsError, match="identifier"):
        check_parameter_names([name])


@pytest.mark.parametrize("name", ["openai_api_key", "db_password", "token", "client_secret"])
def test_secret_like_names_are_refused(name: str) -> None:
    with pytest.raises(ParamsError, match="secret"):
        check_parameter_names([name])


def test_demo_params_validate(repo_root: Path) -> None:
    params = load_params(repo_root / "params" / "demo.yaml")
    assert params.data.endswith("demo-data/campaigns.csv")
    assert "lstm" not in params.members


def test_campaign_list_checks_ids() -> None:
    params = RunParams(data="x.csv", campaigns=["C01"])
    assert params.campaign_list(["C01", "C02"]) == ["C01"]
    with pytest.raises(ParamsError, match="did you mean 'C01'"):
        RunParams(data="x.csv", campaigns=["C1"]).campaign_list(["C01", "C02"])


def test_hash_ignores_where_the_files_are() -> None:
    a = RunParams(data="/a/b/campaigns.csv", output_dir="/x/reports")
    b = RunParams(data="../b/campaigns.csv", output_dir="reports")
    assert params_hash(a) == params_hash(b)


def test_metadata_keys_are_accepted_in_a_parameter_file(tmp_path: Path) -> None:
    # on main: "field 'industry': unknown key"
    path = tmp_path / "run.yaml"
    path.write_text(
        "data: c.csv\nindustry: Retail\nplatform: search\nmetadata: meta/m.yaml\n"
        "targets: {cpa: 25, roas: 3}\n"
        "campaign_meta:\n  C101: {industry: Travel, target_cpa: 40, flight_end: 2026-06-30}\n"
    )
    params = load_params(path)
    assert (params.industry, params.platform) == ("Retail", "search")
    assert params.metadata == str(tmp_path / "meta" / "m.yaml")
    assert (params.run_target_cpa, params.run_target_roas) == (25.0, 3.0)
    assert params.campaign_meta["C101"].industry == "Travel"
    assert params.campaign_meta["C101"].target_cpa == 40.0
    assert str(params.campaign_meta["C101"].flight_end) == "2026-06-30", "a YAML date"
    assert RunParams.model_validate(params.to_dict()) == params, "survives Papermill's JSON"


def test_metadata_keys_are_checked_where_they_enter() -> None:
    with pytest.raises(ParamsError, match=r"field 'campaign_meta\.C101\.indstry'.*'industry'"):
        validate_params({"data": "d.csv", "campaign_meta": {"C101": {"indstry": "Retail"}}})
    with pytest.raises(ParamsError, match=r"field 'targets\.cap'.*did you mean 'cpa'"):
        validate_params({"data": "d.csv", "targets": {"cap": 3}})
    with pytest.raises(ParamsError, match="give target_cpa or targets.cpa, not both"):
        validate_params({"data": "d.csv", "target_cpa": 3, "targets": {"cpa": 4}})
    with pytest.raises(ParamsError, match="is not a campaign id"):
        validate_params({"data": "d.csv", "campaign_meta": {"C1\x00rm": {"industry": "x"}}})


def test_hash_covers_metadata_params_but_not_where_the_metadata_file_is() -> None:
    base = RunParams(data="c.csv")
    assert params_hash(base) != params_hash(RunParams(data="c.csv", industry="Retail"))
    a = RunParams(data="c.csv", metadata="/a/meta.yaml")
    assert params_hash(a) == params_hash(RunParams(data="c.csv", metadata="../b/meta.yaml"))
