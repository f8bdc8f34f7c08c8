"""``simkit dashboard``: bad input fails with one line and exit code 1, before Voila starts."""

from __future__ import annotations

from typer.testing import CliRunner

from simkit.cli import app
from simkit.dashboard.cli import DEFAULT_DATA, dashboard_parameters

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["dashboard", *args], env={"SIMKIT_DASHBOARD_TOKEN": ""})


def test_missing_data_file_is_one_line_and_exit_1(tmp_path):
    result = _run("--data", str(tmp_path / "nope.csv"), "--port", "18999")
    assert result.exit_code == 1
    assert "error" in result.output and "Traceback" not in result.output


def test_data_and_run_together_are_refused(tmp_path):
    result = _run("--data", str(DEFAULT_DATA), "--run", "R1")
    assert result.exit_code == 1 and "not both" in result.output


def test_beyond_loopback_without_a_token_is_refused():
    result = _run("--ip", "0.0.0.0", "--port", "18998")
    assert result.exit_code == 1 and "token" in result.output


def test_unknown_run_is_refused(tmp_path):
    result = _run("--run", "NOPE", "--registry", f"sqlite:///{tmp_path / 'r.sqlite'}")
    assert result.exit_code == 1 and "no run 'NOPE'" in result.output


def test_parameters_default_to_the_fixture_with_absolute_paths(tmp_path):
    params = dashboard_parameters(
        data=None,
        run_id=None,
        mapping=None,
        n_paths=5000,
        horizon_days=30,
        seed=3,
        workdir=tmp_path,
    )
    assert params["data"] == str(DEFAULT_DATA) and params["workdir"] == str(tmp_path)
    assert params["run_id"] is None and params["n_paths"] == 5000


def test_run_option_takes_data_and_settings_from_the_registry(tmp_path):
    from simkit.registry import Registry

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    params = {"data": str(DEFAULT_DATA), "mapping": None, "horizon_days": 120, "seed": 42}
    Registry(url).create_run(
        "20261120T000000Z-abc123",
        params=params,
        params_hash="h",
        output_dir=str(tmp_path),
        campaigns=["C001"],
    )
    got = dashboard_parameters(
        data=None,
        run_id="20261120",
        mapping=None,
        n_paths=1000,
        horizon_days=30,
        seed=7,
        registry=url,
    )
    assert got["run_id"] == "20261120T000000Z-abc123"
    assert got["data"] == str(DEFAULT_DATA)
    assert got["horizon_days"] == 90 and got["seed"] == 42
