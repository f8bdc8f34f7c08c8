from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simkit.errors import DataError, ParamsError
from simkit.simulate import PACING_RULES, BudgetPlan, DeliveryModel, fit_delivery, read_plan_file
from simkit.simulate.budget import deliver, pacing_rule_for

DATES = pd.date_range("2026-03-02", periods=28, freq="D")


def test_pacing_rules_by_channel():
    assert pacing_rule_for("search").name == "google"
    assert pacing_rule_for("Facebook").name == "meta"
    assert pacing_rule_for("tiktok").name == "none"
    assert pacing_rule_for(None).name == "none"


@pytest.mark.parametrize(("rule", "cap"), [("google", 2.0), ("meta", 1.25), ("none", 1.0)])
def test_daily_spend_never_exceeds_the_platform_cap(rule, cap):
    z = np.random.default_rng(0).standard_normal((28, 5000)).astype(np.float32)
    got = deliver(
        BudgetPlan.from_daily(100.0, 28), DeliveryModel(1.0, 0.5, PACING_RULES[rule]), DATES, z
    )
    assert got.spend.max() <= cap * 100.0 * (1 + 1e-6)


def test_google_monthly_cap():
    dates = pd.date_range("2026-03-01", periods=31, freq="D")
    z = np.full((31, 10), 3.0, dtype=np.float32)  # heavy overdelivery every day
    got = deliver(
        BudgetPlan.from_daily(100.0, 31), DeliveryModel(1.0, 0.3, PACING_RULES["google"]), dates, z
    )
    assert got.spend.sum(axis=0).max() <= 30.4 * 100 * (1 + 1e-6)
    assert got.exhausted.all()


def test_total_budget_caps_cumulative_spend_and_flags_exhaustion():
    z = np.random.default_rng(1).standard_normal((28, 4000)).astype(np.float32)
    plan = BudgetPlan.from_total(2800.0, 28)
    got = deliver(plan, DeliveryModel(1.05, 0.2, PACING_RULES["google"]), DATES, z)
    assert got.spend.sum(axis=0).max() <= 2800 * (1 + 1e-6)
    assert 0.0 < got.exhausted.mean() < 1.0
    first = got.exhausted_day[got.exhausted]
    assert np.all(first < 27)
    rows = np.flatnonzero(got.exhausted)[:20]
    for i in rows:  # nothing spent after the day the budget ran out
        assert got.spend[got.exhausted_day[i] + 1 :, i].sum() == pytest.approx(0.0, abs=1e-6)


def test_fit_delivery_from_budget_column():
    days = pd.date_range("2026-01-01", periods=40)
    frame = pd.DataFrame(
        {"date": days, "spend": 95.0 * np.exp(0.05 * np.sin(np.arange(40))), "budget": 100.0}
    )
    model = fit_delivery(frame, channel="social")
    assert model.ratio == pytest.approx(0.95, rel=0.01)
    assert model.rule.name == "meta"
    no_budget = fit_delivery(frame.drop(columns="budget"))
    assert no_budget.ratio == 1.0


def _write(tmp_path, text):
    path = tmp_path / "plan.csv"
    path.write_text(text)
    return path


def test_plan_file_reads_the_horizon(tmp_path):
    rows = "\n".join(f"{d.date()},C1,{100 + i}" for i, d in enumerate(DATES))
    other = "\n2026-03-02,C2,5"
    plan = read_plan_file(_write(tmp_path, "date,campaign_id,spend\n" + rows + other), "C1", DATES)
    assert plan.kind == "plan_file"
    assert plan.daily[0] == 100 and plan.daily[-1] == 127


@pytest.mark.parametrize(
    ("text", "row", "column", "needle"),
    [
        ("date,campaign_id,spendd\n2026-03-02,C1,1\n", None, "spend", "did you mean 'spendd'"),
        ("date,campaign_id,spend\n2026-03-02,C1,1\nnot-a-date,C1,2\n", 2, "date", "not a date"),
        ("date,campaign_id,spend\n2026-03-02,C1,abc\n", 1, "spend", "not a number"),
        ("date,campaign_id,spend\n2026-03-02,C1,-4\n", 1, "spend", "negative"),
        ("date,campaign_id,spend\n2026-03-02,C1,1\n2026-03-02,C1,2\n", 2, "date", "second row"),
        ("date,campaign_id,spend\n2026-03-02,C1,1\n", None, "date", "no plan row"),
        ("date,campaign_id,spend\n2026-03-02,C9,1\n", None, "campaign_id", "no rows for campaign"),
    ],
)
def test_plan_file_errors_name_file_row_and_column(tmp_path, text, row, column, needle):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=needle) as info:
        read_plan_file(path, "C1", DATES)
    err = info.value
    assert err.file == str(path)
    assert err.row == row
    assert err.column == column
    assert needle in str(err)


def test_missing_plan_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_plan_file(tmp_path / "nope.csv", "C1", DATES)


def test_budget_validation():
    with pytest.raises(ParamsError, match="daily budget -1.0 must be >= 0"):
        BudgetPlan.from_daily(-1.0, 5)
    assert BudgetPlan.from_total(70.0, 7).daily == pytest.approx(np.full(7, 10.0))


def test_deliver_log_spend_is_log_of_spend_also_where_caps_bind():
    z = np.random.default_rng(8).standard_normal((31, 400)).astype(np.float32)
    plan = BudgetPlan(np.r_[np.full(20, 100.0), np.zeros(3), np.full(8, 150.0)], total=2000.0)
    dates = pd.date_range("2026-01-15", periods=31, freq="D")
    got = deliver(plan, DeliveryModel(1.1, 0.4, PACING_RULES["google"]), dates, z, with_log=True)
    assert got.exhausted.any()  # the total cap binds on some paths
    with np.errstate(divide="ignore"):
        expected = np.log(got.spend)
    assert np.allclose(got.log_spend, expected, atol=1e-5, equal_nan=False)
    assert np.array_equal(got.log_spend == -np.inf, got.spend == 0)


@pytest.mark.parametrize(
    ("start", "days"), [("2026-03-02", 90), ("2024-02-10", 400), ("2026-01-31", 1)]
)
def test_google_month_caps_are_prorated_calendar_months(start, days):
    from simkit.simulate.budget import cap_segments

    dates = pd.date_range(start, periods=days, freq="D")
    daily = np.random.default_rng(2).uniform(10, 100, days)
    segments = cap_segments(BudgetPlan(daily), DeliveryModel(rule=PACING_RULES["google"]), dates)
    periods = dates.to_period("M")
    expected = []
    for period in periods.unique():
        idx = np.flatnonzero(periods == period)
        lo, hi = int(idx[0]), int(idx[-1]) + 1
        share = (hi - lo) / period.days_in_month
        expected.append((lo, hi, 30.4 * share * daily[lo:hi].mean()))
    assert [s[:2] for s in segments] == [e[:2] for e in expected]
    assert np.allclose([s[2] for s in segments], [e[2] for e in expected], rtol=1e-12)


def _paced_history(scale: float, *, end: str = "2026-02-28", days: int = 90, seed: int = 4):
    """A Google-paced history against a 100/day budget: noisy days (log-sd 0.25, at most 2x
    the budget) whose months stay within 30.4 days of budget; ``scale`` multiplies spend."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(end=end, periods=days, freq="D")
    spend = np.minimum(100.0 * np.exp(0.25 * rng.standard_normal(days)), 200.0)
    frame = pd.DataFrame({"date": dates, "spend": spend, "budget": 100.0})
    months = dates.to_period("M")
    for month in months.unique():  # the platform holds each month under its cap
        rows = months == month
        cap = 30.4 * rows.sum() / month.days_in_month * 100.0
        total = frame.loc[rows, "spend"].sum()
        if total > 0.98 * cap:
            frame.loc[rows, "spend"] *= 0.98 * cap / total
    frame["spend"] = np.minimum(frame["spend"] * scale, 200.0)  # Google's 2x still holds
    return frame


MARCH = pd.date_range("2026-03-01", periods=31, freq="D")


def test_a_campaign_that_respects_its_budget_is_still_capped():
    model = fit_delivery(_paced_history(1.0), channel="search")
    assert model.rule.name == "google"
    assert model.daily_cap and model.period_cap and model.note is None
    assert model.log_sd == pytest.approx(0.25, abs=0.06)
    z = np.random.default_rng(5).standard_normal((31, 4000)).astype(np.float32)
    got = deliver(BudgetPlan.from_daily(100.0, 31), model, MARCH, z)
    month = got.spend.sum(axis=0)
    assert month.max() <= 30.4 * 100 * (1 + 1e-6)  # the monthly charge cap binds...
    assert np.mean(month >= 30.4 * 100 * (1 - 1e-6)) > 0.05  # ...on a good share of paths
    assert got.spend.max() <= 200.0 * (1 + 1e-6)  # and the 2x daily maximum


def test_spend_above_the_budget_column_switches_off_the_caps_it_contradicts():
    model = fit_delivery(_paced_history(1.2), channel="search")
    assert model.ratio == pytest.approx(1.2 * fit_delivery(_paced_history(1.0)).ratio, rel=0.03)
    assert model.daily_cap and not model.period_cap  # 1.2x is within Google's 2x a day
    assert "spend contradicts the budget column" in model.note
    assert "period cap is not applied" in model.note
    assert model.to_dict()["period_cap"] is False
    z = np.random.default_rng(5).standard_normal((31, 4000)).astype(np.float32)
    got = deliver(BudgetPlan.from_daily(100.0, 31), model, MARCH, z)
    assert not got.exhausted.any()
    assert np.median(got.spend, axis=1).min() > 0.8 * 100 * model.ratio  # no zero days
    assert np.mean(got.spend.sum(axis=0) > 30.4 * 100) > 0.9  # the history's level, kept


def test_meta_daily_maximum_is_dropped_only_when_the_history_breaks_it():
    dates = pd.date_range(end="2026-02-28", periods=60, freq="D")
    spend = 100.0 * np.random.default_rng(7).uniform(0.75, 1.22, 60)  # Meta: at most +25%
    paced = pd.DataFrame({"date": dates, "spend": spend, "budget": 100.0})
    within = fit_delivery(paced, channel="social")
    assert within.daily_cap and within.note is None
    above = fit_delivery(paced.assign(spend=1.3 * spend), channel="social")
    assert not above.daily_cap
    assert "above the daily maximum of 1.25x the budget" in above.note
    assert above.applied_rule.daily_max_factor == float("inf")
    z = np.random.default_rng(6).standard_normal((31, 500)).astype(np.float32)
    got = deliver(BudgetPlan.from_daily(100.0, 31), above, MARCH, z)
    assert got.spend.max() > 125.0
    assert np.isfinite(got.spend).all()


def test_without_a_budget_column_the_caps_stay_for_a_budget_the_user_gives():
    model = fit_delivery(_paced_history(1.2).drop(columns="budget"), channel="search")
    assert (model.ratio, model.daily_cap, model.period_cap, model.note) == (1.0, True, True, None)


def test_recent_spend_level_is_the_last_two_weeks_mean():
    from simkit.simulate.budget import PLAN_LOOKBACK_DAYS, recent_spend_level

    spend = np.r_[np.full(30, 10.0), np.full(PLAN_LOOKBACK_DAYS, 40.0)]
    assert PLAN_LOOKBACK_DAYS == 14
    assert recent_spend_level(spend) == 40.0
    assert recent_spend_level(np.r_[spend, np.nan]) == 40.0
    assert recent_spend_level(np.array([])) == 0.0
    # with a budget column: today's budget x the recent spend / budget, so a budget cut
    # five days ago is followed, not averaged over; overspend is believed
    budget = np.r_[np.full(39, 100.0), np.full(5, 50.0)]
    assert recent_spend_level(1.2 * budget, budget) == pytest.approx(60.0)
    assert recent_spend_level(1.2 * budget, np.where(budget > 60, np.nan, budget)) == (
        pytest.approx(np.mean(1.2 * budget[-14:]))  # fewer than 7 budget days: the mean
    )


def test_spending_exactly_the_budget_is_not_a_contradiction():
    dates = pd.date_range(end="2026-02-28", periods=90, freq="D")
    frame = pd.DataFrame({"date": dates, "spend": 100.0, "budget": 100.0})
    # 31-day months spent 31 days of budget, above the 30.4-day cap: the platform did not stop
    # them, so the cap is not applied to the forecast (it would invent a zero-spend month-end
    # day), but within 5% of it that is ordinary pacing, not worth a note
    model = fit_delivery(frame, channel="search")
    assert (model.ratio, model.daily_cap, model.period_cap, model.note) == (1.0, True, False, None)
    tiktok = fit_delivery(frame, channel="tiktok")  # 'none': never above the budget
    assert tiktok.daily_cap and tiktok.note is None
    over = fit_delivery(frame.assign(spend=110.0), channel="tiktok")
    assert not over.daily_cap
    assert "90 of 90 days above the daily maximum of 1x the budget" in over.note


def test_a_month_just_above_the_cap_switches_the_cap_off_without_a_note():
    """2% above the budget every day: the months spent 31.6 days of budget, above the 30.4-day
    cap yet within its 5% tolerance. The cap must not be kept (it would stop spend on the last
    day of a 31-day month in the forecast), and the note stays for clear contradictions."""
    dates = pd.date_range(end="2026-02-28", periods=90, freq="D")
    frame = pd.DataFrame({"date": dates, "spend": 102.0, "budget": 100.0})
    model = fit_delivery(frame, channel="search")
    assert (model.daily_cap, model.period_cap, model.note) == (True, False, None)
    kept = fit_delivery(frame.assign(spend=95.0), channel="search")
    assert kept.period_cap
