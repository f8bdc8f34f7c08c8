"""Hostile parameters: path traversal, YAML tags, oversized inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from simkit.dashboard.views import form_params
from simkit.data import load
from simkit.data.importers import load_mapping
from simkit.data.validate import load_metadata
from simkit.errors import DataError, ParamsError
from simkit.params import MAX_PARAMS_BYTES, load_params
from simkit.paths import PathOutsideRootError, ensure_inside, safe_name

FORM = {"campaigns": ["C001"], "horizon_days": 14, "n_paths": 500, "seed": 1}


def _form(tmp_path: Path, **values: object):
    return form_params(
        {**FORM, **values},
        data=str(tmp_path / "data.csv"),
        mapping=None,
        available=["C001"],
        workdir=tmp_path,
    )


@pytest.mark.parametrize("field", ["output_dir", "plan"])
@pytest.mark.parametrize("value", ["../outside", "/etc", "a/../../b", "/tmp/../etc/passwd"])
def test_form_paths_cannot_leave_the_working_folder(tmp_path: Path, field: str, value: str) -> None:
    with pytest.raises(ParamsError, match=f"field '{field}': must be a path inside the working"):
        _form(tmp_path, **{field: value})


def test_a_symlink_out_of_the_working_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "escape").symlink_to("/etc")
    with pytest.raises(ParamsError, match="field 'output_dir': must be a path inside"):
        _form(tmp_path, output_dir="escape/x")


def test_the_form_cannot_name_the_data(tmp_path: Path) -> None:
    params = _form(tmp_path, data="/etc/passwd")
    assert params.data == str(tmp_path / "data.csv")


@pytest.mark.parametrize("cid", ["../../etc/x", "/abs/dir", "..", "C1/../../x", "<script>"])
def test_campaign_ids_never_make_a_path_outside(tmp_path: Path, cid: str) -> None:
    target = tmp_path / safe_name(cid)
    assert ensure_inside(tmp_path, target).parent == tmp_path.resolve()
    with pytest.raises(PathOutsideRootError, match="not inside the output folder"):
        ensure_inside(tmp_path, tmp_path / cid / ".." / ".." / "..")


def test_params_data_and_plan_resolve_against_the_params_folder(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("data: ../../x.csv\nplan: ../p.csv\noutput_dir: out\n")
    params = load_params(tmp_path / "p.yaml")
    assert params.data == str((tmp_path / "../../x.csv").resolve())
    assert params.output_dir == str(tmp_path / "out")


YAML_TAGS = [
    "data: !!python/object/apply:os.system ['touch /tmp/simkit-pwned']\n",
    "data: !!python/name:os.system\n",
    "!!python/object/new:subprocess.Popen [['true']]\n",
]


@pytest.mark.parametrize("text", YAML_TAGS)
def test_yaml_tags_are_refused_in_params(tmp_path: Path, text: str) -> None:
    (tmp_path / "p.yaml").write_text(text)
    with pytest.raises(ParamsError, match="not valid YAML: could not determine a constructor"):
        load_params(tmp_path / "p.yaml")
    assert not Path("/tmp/simkit-pwned").exists()


@pytest.mark.parametrize("text", YAML_TAGS)
def test_yaml_tags_are_refused_in_mappings_and_metadata(tmp_path: Path, text: str) -> None:
    (tmp_path / "m.yaml").write_text(text)
    with pytest.raises(ParamsError, match="could not determine a constructor"):
        load_mapping(tmp_path / "m.yaml")
    with pytest.raises((DataError, ParamsError), match="could not determine a constructor"):
        load_metadata(tmp_path / "m.yaml")


def test_an_oversized_params_file_gets_a_limit_message(tmp_path: Path) -> None:
    big = tmp_path / "p.yaml"
    big.write_text("data: x.csv\n# " + "x" * MAX_PARAMS_BYTES + "\n")
    with pytest.raises(ParamsError, match=r"KiB; a parameter file is at most 1024 KiB"):
        load_params(big)


def test_an_oversized_data_file_gets_a_limit_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_data: Path
) -> None:
    monkeypatch.setenv("SIMKIT_MAX_INPUT_MB", "0.001")  # 1 KiB, for the test
    with pytest.raises(DataError, match=r"MiB; the input limit is 0 MiB .*SIMKIT_MAX_INPUT_MB"):
        load(test_data / "report" / "campaigns.csv")


def test_an_oversized_campaign_id_is_refused() -> None:
    from simkit.params import validate_params

    with pytest.raises(ParamsError, match="is not a campaign id \\(1 to 1000 characters"):
        validate_params({"data": "x.csv", "campaigns": ["C" * 1001]})
