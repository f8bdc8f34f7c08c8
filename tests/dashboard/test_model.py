"""The view-model: pivot validation, baseline, preview on common random numbers, deltas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from simkit.dashboard.model import (
    DELTA_METRICS,
    MAX_HORIZON_DAYS,
    MAX_PATHS,
    DashboardSettings,
    PivotInput,
    WhatIfModel,
    parse_pivot,
)
from simkit.errors import DataError, ParamsError

# --- untrusted widget input -----------------------------------------------------------------


def test_parse_pivot_clamps_out_of_range_numbers():
    p = parse_pivot(
        {
            "budget_change_pct": 1e9,
            "audience_expansion_pct": -5,
            "competition_pct": "-80",
            "horizon_days": 400,
        }
    )
    assert p.budget_change_pct == 200.0
    assert p.audience_expansion_pct == 0.0
    assert p.competition_pct == -50.0
    assert p.horizon_days == MAX_HORIZON_DAYS


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "ten", None, [1], True, {"a": 1}])
def test_parse_pivot_refuses_non_numbers(bad):
    with pytest.raises(ParamsError, match="budget_change_pct"):
        parse_pivot({"budget_change_pct": bad})


def test_parse_pivot_refuses_unknown_levers_with_a_hint():
    with pytest.raises(ParamsError, match="budget_change_pct"):
        parse_pivot({"budget_chnage_pct": 10})


def test_parse_pivot_refuses_a_non_boolean_toggle():
    with pytest.raises(ParamsError, match="on or off"):
        parse_pivot({"creative_refresh": "yes"})


#: each number lever's range, as documented on PivotInput
RANGES = {
    "budget_change_pct": (-90.0, 200.0),
    "audience_expansion_pct": (0.0, 100.0),
    "competition_pct": (-50.0, 100.0),
    "horizon_days": (7, MAX_HORIZON_DAYS),
}
NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**12), 10**12),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
)


def _not_a_number(text: str) -> bool:
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return True


NOT_NUMBERS = st.one_of(
    st.sampled_from([float("nan"), float("inf"), -float("inf"), "nan", "-inf", None, True]),
    st.text(max_size=8).filter(_not_a_number),
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(RANGES)), NUMBERS))
def test_parse_pivot_clamps_any_number_into_its_range(raw):
    p, defaults = parse_pivot(raw), PivotInput()
    for name, (lo, hi) in RANGES.items():
        expected = min(max(float(raw[name]), lo), hi) if name in raw else getattr(defaults, name)
        assert getattr(p, name) == (round(expected) if name == "horizon_days" else expected)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(RANGES)), NUMBERS),
    st.sampled_from(sorted(RANGES)),
    NOT_NUMBERS,
)
def test_parse_pivot_refuses_a_non_number_naming_its_lever(valid, lever, bad):
    with pytest.raises(ParamsError, match=f"^field '{lever}': {lever} must be a"):
        parse_pivot({**valid, lever: bad})


def test_settings_cap_the_paths():
    with pytest.raises(ValidationError, match="less than or equal to 20000"):
        DashboardSettings(data="x.csv", n_paths=MAX_PATHS + 1)


def test_unknown_or_malformed_campaign_is_a_short_data_error(model):
    with pytest.raises(DataError, match="no campaign 'C01'"):
        model.baseline("C01")
    with pytest.raises(DataError, match="no campaign"):
        model.baseline({"campaign": "C001"})  # type: ignore[arg-type]


# --- campaigns and baseline -----------------------------------------------------------------


def test_campaigns_are_listed_largest_recent_spend_first(model):
    options = model.campaigns()
    assert sorted(o.campaign_id for o in options) == ["C001", "C002", "C003"]
    spends = [o.spend_28d for o in options]
    assert spends == sorted(spends, reverse=True)
    assert all(o.label.startswith(o.campaign_id) for o in options)


def test_baseline_has_bands_scenarios_and_probabilities(model):
    base = model.baseline("C001", 21)
    assert base.horizon_days == 21
    band = base.bands["conversions"]
    assert len(band) == 21
    assert (band["p10"] <= band["p50"]).all() and (band["p50"] <= band["p90"]).all()
    rows = base.scenario_rows()
    names = [r["scenario"] for r in rows]
    assert names == ["pessimistic", "realistic", "optimistic"]
    assert sum(r["probability"] for r in rows) == 1.0  # the scenarios partition the paths
    assert rows[0]["conversions"] <= rows[1]["conversions"] <= rows[2]["conversions"]
    for r in rows:
        assert r["cpa"] == pytest.approx(r["spend"] / r["conversions"])
    probs = base.result.probabilities
    assert math.isclose(probs["p_below_plan"] + probs["p_on_plan"] + probs["p_above_plan"], 1.0)
    assert "p_cpa_le_target" in probs  # the fixture's metadata carries a target CPA


def test_drivers_are_fitted_once_per_campaign_and_horizon_bucket(model, forecaster):
    model.baseline("C001", 30)
    for pct in (10, 20, -30):
        model.preview("C001", {"budget_change_pct": pct, "horizon_days": 30})
    model.baseline("C001", 14)
    model.preview("C001", {"competition_pct": 20, "horizon_days": 14})
    assert forecaster.calls == [("C001", 30)]
    model.baseline("C001", 45)
    assert forecaster.calls == [("C001", 30), ("C001", 60)]


def test_horizon_is_clamped(model):
    assert model.baseline("C002", 3).horizon_days == 7
    assert model.baseline("C002", 900).horizon_days == MAX_HORIZON_DAYS


# --- preview --------------------------------------------------------------------------------


def test_no_change_gives_exactly_zero_deltas(model):
    """Common random numbers: the pivot equal to the baseline reproduces it path by path."""
    preview = model.preview("C001", {})
    for d in preview.deltas.values():
        assert d.p10 == d.p50 == d.p90 == 0.0
        assert d.p_better == 0.0


def test_budget_increase_spends_more_and_converts_more_at_a_higher_cpa(model):
    preview = model.preview("C002", {"budget_change_pct": 30})
    d = preview.deltas
    assert d["spend"].p10 > 0
    assert d["conversions"].p50 > 0 and d["conversions"].p_better > 0.9
    # the CPM rises with spend (elasticity 0.3): each conversion costs more
    assert d["cpa"].p50 > 0 and d["cpa"].p_better < 0.2


def test_competition_makes_things_worse(model):
    d = model.preview("C003", {"competition_pct": 50}).deltas
    assert d["conversions"].p50 < 0 and d["conversions"].p_better < 0.1
    assert d["cpa"].p50 > 0
    assert d["spend"].p50 == 0.0  # the same budget is spent, it buys fewer impressions


def test_paired_deltas_are_tighter_than_independent_runs(model, make_model):
    """The point of common random numbers: the delta's spread is far below the baseline's."""
    preview = model.preview("C002", {"budget_change_pct": 20})
    base = preview.baseline.result.totals["conversions"]
    d = preview.deltas["conversions"]
    assert (d.p90 - d.p10) < 0.5 * (base["p90"] - base["p10"])


def test_creative_refresh_uses_the_fitted_fatigue_or_says_it_cannot(model):
    from simkit.pivots.sessions import refresh_shift
    from simkit.simulate.fatigue import creative_analysis

    fit = model.fit("C001")
    _, state = creative_analysis(fit.history, fit.campaign_id)
    assert state is not None  # C001 has creative history: the pivot engine's refresh applies
    preview = model.preview("C001", {"creative_refresh": True})
    assert preview.notes and "refresh" in preview.notes[0]
    shift = np.array(refresh_shift(state, fit.horizon_days, fit.n_paths, seed=fit.seed).mean)
    # day 1: the new creative's CTR over the current one's, the figures the note states
    assert shift[0] == pytest.approx(state.fresh - state.current, abs=0.05)
    # conversions follow CTR: the mean over the days of the CTR ratio the logit shift gives
    ctr = math.exp(state.current)
    ratio = np.exp(shift) / (1 - ctr + ctr * np.exp(shift))
    d = preview.deltas["conversions"]
    assert d.p50 / d.baseline_p50 == pytest.approx(ratio.mean() - 1, abs=0.05)
    assert d.p10 > 0 and preview.deltas["spend"].p10 == preview.deltas["spend"].p90 == 0.0


def test_audience_expansion_states_its_assumption(model):
    preview = model.preview("C002", {"audience_expansion_pct": 40})
    assert any("assumed to convert at" in n for n in preview.notes)
    assert preview.deltas["spend"].p50 == 0.0


def test_delta_quantiles_are_ordered_and_probabilities_valid(model):
    preview = model.preview(
        "C001",
        {
            "budget_change_pct": -40,
            "competition_pct": 10,
            "audience_expansion_pct": 20,
            "creative_refresh": True,
        },
    )
    assert set(preview.deltas) == set(DELTA_METRICS)
    for d in preview.deltas.values():
        assert d.p10 <= d.p50 <= d.p90
        assert 0.0 <= d.p_better <= 1.0
    json_ready = preview.to_dict()
    assert json_ready["deltas"]["conversions"]["p50"] == preview.deltas["conversions"].p50


def test_same_seed_same_numbers_other_seed_differs(make_model):
    a = make_model(seed=3).preview("C002", {"budget_change_pct": 25})
    b = make_model(seed=3).preview("C002", {"budget_change_pct": 25})
    c = make_model(seed=4).preview("C002", {"budget_change_pct": 25})
    assert a.deltas["conversions"] == b.deltas["conversions"]
    assert np.array_equal(a.paths.conversions, b.paths.conversions)
    assert not np.array_equal(a.paths.conversions, c.paths.conversions)


def test_preview_bands_and_chart(model):
    preview = model.preview("C003", {"budget_change_pct": 50})
    band = preview.band("spend")
    base_band = preview.baseline.bands["spend"]
    assert (band["p50"].to_numpy() > base_band["p50"].to_numpy()).all()
    spec = model.chart(preview.baseline, preview, metric="spend")
    assert "budget +50%" in str(spec)
    with pytest.raises(ParamsError, match="metric must be one of"):
        model.chart(preview.baseline, preview, metric="clicks; drop")  # type: ignore[arg-type]


def test_recommendations_map_to_dashboard_pivots(model):
    cards = model.recommendations("C001")
    assert cards and all("C001" in c.campaign_ids for c in cards)
    assert all(0 <= card.confidence <= 1 for card in cards)
    mapped = [card for card in cards if card.pivot is not None]
    assert mapped  # the fixture's cards include ones the levers express
    for card in mapped:
        assert parse_pivot(card.pivot).model_dump(exclude={"horizon_days"}) == card.pivot
    refresh = [c for c in cards if c.type == "creative_refresh"]
    assert len(refresh) == 1 and refresh[0].pivot["creative_refresh"] is True


def test_chart_renders_to_svg_without_altair(model):
    from simkit.dashboard.charts import chart_svg

    base = model.baseline("C002", 14)
    svg = chart_svg(model.chart(base, model.preview("C002", {"competition_pct": 20})))
    assert svg.startswith("<svg") and "competition +20%" in svg


def test_the_dashboard_kernel_path_does_not_import_altair():
    """Altair's import costs each kernel 1-2 s of first paint (jsonschema builds a grammar)."""
    import subprocess
    import sys

    code = (
        "import sys; from simkit.dashboard.app import DashboardApp, open_dashboard; "
        "from simkit.dashboard.charts import chart_svg; import simkit.dashboard.views; "
        "print('altair' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_spend_above_its_budget_column_is_believed_and_noted(loaded, forecaster):
    # C001 is a search (Google) campaign: spend at 1.2x its budget column for weeks would
    # bind the monthly cap and show days of zero spend at every month's end
    data = loaded.data.copy()
    mine = data["campaign_id"] == "C001"
    data.loc[mine, "spend"] = (data.loc[mine, "budget"] * 1.2).round(2)
    model = WhatIfModel(
        data,
        DashboardSettings(data="campaigns.csv", n_paths=1_000),
        campaigns=loaded.campaigns,
        forecast_fn=forecaster,
    )
    base = model.baseline("C001", 45)
    assert (base.bands["conversions"]["p50"] > 0).all()
    spend = base.result.daily[base.result.daily["metric"] == "spend"]["p50"]
    level = 1.2 * data.loc[mine, "budget"].iloc[-1]
    assert spend.min() > 0.9 * level
    assert any("spend contradicts the budget column" in n for n in base.notes)
    assert base.result.probabilities["p_budget_exhausted"] == 0.0
