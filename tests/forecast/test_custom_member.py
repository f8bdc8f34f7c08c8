"""Your own forecast member (issue 22): the public protocol, registration by decorator and by
the ``simkit.members`` entry point, and a custom member backtested, weighted and simulated
like the built-in ones."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

import simkit
from simkit.data.synthetic import generate
from simkit.errors import ParamsError
from simkit.forecast import MEMBERS, Forecaster, Member, members

H = 14


class AutoETSMember(Member):
    """A thin wrapper over statsforecast's AutoETS, one model per driver."""

    name = "auto_ets_test"
    min_history_days = 21

    def __init__(self, *, season_length: int = 7, alias: str = "auto_ets_test") -> None:
        self.season_length = season_length
        self.alias = alias

    def fit(self, y, X=None):  # noqa: ANN001, ANN201, N803 - the protocol's names
        from statsforecast.models import AutoETS

        self.models_ = [
            AutoETS(season_length=self.season_length).fit(col)
            for col in np.asarray(y, dtype=float).T
        ]
        self.n_obs_ = len(y)
        return self

    def predict(self, h, X_future=None):  # noqa: ANN001, ANN201, N803
        return np.column_stack([m.predict(h)["mean"] for m in self.models_])


@pytest.fixture
def registry():
    """The member registry, restored after the test (registrations are process-wide)."""
    saved = dict(MEMBERS)
    yield MEMBERS
    MEMBERS.clear()
    MEMBERS.update(saved)


@pytest.fixture(scope="module")
def world():
    return generate(2, 84, rng=np.random.default_rng(11))


def test_a_custom_member_follows_the_protocol() -> None:
    member = AutoETSMember()
    assert isinstance(member, Forecaster)
    assert member.get_params() == {"season_length": 7, "alias": "auto_ets_test"}
    assert repr(member) == "AutoETSMember(season_length=7, alias='auto_ets_test')"


@pytest.mark.slow
def test_custom_member_is_backtested_weighted_and_simulated(registry, world, tmp_path) -> None:
    simkit.register_member(AutoETSMember)
    names = ["seasonal_naive", "auto_ets_test"]
    # one cache: the forecast reuses the backtest's fits (same data, plan and members)
    bt = simkit.backtest_campaign(world.data, "C001", H, members=names, seed=2, cache=tmp_path)
    assert set(bt.members) == set(names)
    score = bt.members["auto_ets_test"]
    assert np.isfinite(score.mase) and score.n_points == bt.members["seasonal_naive"].n_points
    assert not [w for w in bt.warnings if "auto_ets_test" in w and "failed" in w]
    weights = {m: s.weight for m, s in bt.members.items()}
    assert sum(weights.values()) == pytest.approx(1.0)
    assert bt.to_frame().set_index("member").loc["auto_ets_test", "mase"] == pytest.approx(
        score.mase
    )

    fc = simkit.forecast_campaign(world.data, "C001", H, members=names, seed=2, cache=tmp_path)
    assert fc.members == tuple(names)
    assert fc.member_forecasts["auto_ets_test"].shape == (H, 4)
    sim = simkit.simulate_campaign(world.data, "C001", H, n_paths=300, seed=2, drivers=fc.drivers)
    assert sim.totals["conversions"]["p10"] <= sim.totals["conversions"]["p90"]
    assert "auto_ets_test" in fc._repr_html_()


def test_decorator_registers_with_and_without_arguments(registry) -> None:
    @simkit.register_member
    class Plain(AutoETSMember):
        name = "plain_test"

    @simkit.register_member(name="renamed_test")
    class Renamed(AutoETSMember):
        pass

    assert registry["plain_test"] is Plain
    assert registry["renamed_test"] is Renamed
    assert isinstance(members.make_member("renamed_test"), Renamed)


def test_a_taken_name_is_refused_unless_replaced(registry) -> None:
    class Other(AutoETSMember):
        name = "ets"

    with pytest.raises(
        ParamsError, match="member name 'ets' is taken by simkit.forecast.members.ETS"
    ):
        simkit.register_member(Other)
    simkit.register_member(Other, replace=True)
    assert registry["ets"] is Other


def test_a_class_outside_the_protocol_is_refused(registry) -> None:
    class NoPredict:
        name = "broken_test"
        min_history_days = 7
        uses_regressors = False

        def fit(self, y, X=None):  # noqa: ANN001, ANN201, N803
            return self

    with pytest.raises(ParamsError, match="'broken_test'.*lacks predict, get_params"):
        simkit.register_member(NoPredict)
    with pytest.raises(ParamsError, match="needs a name"):
        simkit.register_member(type("Nameless", (Member,), {"fit": None, "predict": None}))
    assert "broken_test" not in registry


def _install_entry_point(tmp_path, monkeypatch, module: str, body: str, value: str) -> None:
    """A package on sys.path that declares a member in the ``simkit.members`` group."""
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(body))
    dist = tmp_path / f"{module}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[simkit.members]\n{value}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(members, "_entry_points_loaded", False)
    monkeypatch.delitem(sys.modules, module, raising=False)


def test_entry_point_members_are_found_by_name(registry, tmp_path, monkeypatch, world) -> None:
    _install_entry_point(
        tmp_path,
        monkeypatch,
        "simkit_plugin_test",
        """
        from simkit.forecast.members import SeasonalNaive

        class Weekly(SeasonalNaive):
            name = "weekly_plugin"
        """,
        "weekly_plugin = simkit_plugin_test:Weekly",
    )
    assert "weekly_plugin" not in registry  # nothing is loaded at import
    bt = simkit.backtest_campaign(
        world.data, "C001", 7, members=["seasonal_naive", "weekly_plugin"], cache=False
    )
    assert registry["weekly_plugin"].__module__ == "simkit_plugin_test"
    # a copy of the seasonal naive scores exactly like it
    assert bt.members["weekly_plugin"].mase == pytest.approx(1.0)


def test_a_broken_entry_point_is_an_error_naming_it(registry, tmp_path, monkeypatch) -> None:
    _install_entry_point(
        tmp_path,
        monkeypatch,
        "simkit_broken_plugin",
        "raise ImportError('needs a library that is not installed')\n",
        "bad_plugin = simkit_broken_plugin:Member",
    )
    with pytest.raises(
        ParamsError,
        match="'bad_plugin' declared by the entry point 'simkit_broken_plugin:Member'.*"
        "needs a library that is not installed",
    ):
        members.make_member("bad_plugin")


def test_an_unknown_member_still_suggests_a_name(registry) -> None:
    with pytest.raises(ParamsError, match="unknown member 'etss'.*ets"):
        members.make_member("etss")
