from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.data.synthetic import SyntheticData
from simkit.errors import SimkitError
from simkit.risk import detect_risks

# the conftest world: fatigue on C001, a competitor on C002, a ten-day tracking outage on C003
# and overpacing on C004, all from 2026-04-20; its data ends on 2026-06-03 (44 days later)
ONSET = date(2026, 4, 20)


def _strong(report) -> dict[tuple[str, str], object]:
    return {(a.campaign_id, a.type): a for a in report.alerts if a.probability >= 0.5}


def test_old_changes_in_force_are_reported_with_their_history(world: SyntheticData) -> None:
    today = _strong(detect_risks(world.data, world.campaigns, lookback_days=0))
    assert ("C001", "audience_fatigue") not in today  # 44 days old: past the 21-day horizon
    report = detect_risks(world.data, world.campaigns)
    found = _strong(report)
    for key in (("C001", "audience_fatigue"), ("C002", "competitor_pressure")):
        alert = found[key]
        assert abs((alert.onset - ONSET).days) <= 7, key
        assert alert.as_of == report.as_of
        assert date.fromisoformat(alert.evidence["detected_as_of"]) < report.as_of
        assert alert.evidence["recent_change_z"] >= 2.0
        assert alert.message.startswith("Ongoing since")
    assert found[("C001", "audience_fatigue")].evidence["recent_change_vs_before_onset"] < -0.2
    assert found[("C002", "competitor_pressure")].evidence["recent_change_vs_before_onset"] > 0.2


def test_a_change_that_went_away_is_not_ongoing(world: SyntheticData) -> None:
    # C003's tracking outage lasted ten days (to 2026-04-30) and was caught at the time
    then = _strong(detect_risks(world.data, world.campaigns, as_of="2026-04-27"))
    assert ("C003", "performance_dip") in then
    now = _strong(detect_risks(world.data, world.campaigns))
    assert ("C003", "performance_dip") not in now
    assert not {cid for cid, _ in now} & {"C005", "C006", "C007", "C008"}


def test_ongoing_alerts_replace_weak_ones_of_their_kind(world: SyntheticData) -> None:
    report = detect_risks(world.data, world.campaigns, min_probability=0.0)
    kinds = [(a.campaign_id, a.type) for a in report.alerts]
    assert len(kinds) == len(set(kinds))


def test_lookback_never_sees_past_as_of(world: SyntheticData) -> None:
    cut = "2026-05-25"
    scrambled = world.data.copy()
    later = scrambled["date"] > cut
    rng = np.random.default_rng(0)
    scrambled.loc[later, "clicks"] = rng.permutation(scrambled.loc[later, "clicks"].to_numpy())
    a = detect_risks(world.data, world.campaigns, as_of=cut)
    b = detect_risks(scrambled, world.campaigns, as_of=cut)
    assert [x.to_dict() for x in a.alerts] == [x.to_dict() for x in b.alerts]


def test_negative_lookback_is_a_clear_error(world: SyntheticData) -> None:
    with pytest.raises(SimkitError, match="lookback_days must be 0 or more"):
        detect_risks(world.data, lookback_days=-7)


def test_cli_reports_ongoing_changes_unless_told_not_to(
    world: SyntheticData, tmp_path: Path
) -> None:
    data_path, _ = world.write(tmp_path)
    runner = CliRunner()
    default = runner.invoke(app, ["risks", str(data_path), "-c", "C001"])
    assert default.exit_code == 0, default.output
    assert "Ongoing since" in default.stdout and "CTR has been wearing out" in default.stdout
    off = runner.invoke(app, ["risks", str(data_path), "-c", "C001", "--lookback", "0"])
    assert off.exit_code == 0 and "0 alert(s)" in off.stdout


def test_cli_default_lookback_is_the_package_default() -> None:
    from simkit.cli.app import load_command
    from simkit.risk.ongoing import LOOKBACK_DAYS

    command = load_command("risks")
    (option,) = [p for p in command.params if p.name == "lookback"]
    assert option.default == LOOKBACK_DAYS
