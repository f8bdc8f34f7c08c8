"""The engines and the campaign report on every data shape (issue 23, shape diversity).

One report per shape (:func:`simkit.report.campaign.build_campaign_report`, the function the
report notebook calls) runs every engine: forecast, scenarios, risks, pivots, market.  The
assertions are what must hold whatever the shape: sections in their documented states,
intervals ordered, conversions per unit of spend in line with the campaign's own history
(a misread column or a lost unit moves it by orders of magnitude), probabilities that add up.
"""

from __future__ import annotations

import math

import pytest

from simkit.params import RunParams
from simkit.report.campaign import CampaignReport, build_campaign_report

from ._shapes import Shape

pytestmark = pytest.mark.slow

ENGINE_SECTIONS = ("forecast", "scenarios", "risks", "pivots", "diagnostics")
METRICS = ("spend", "impressions", "clicks", "conversions", "revenue")


@pytest.fixture(scope="session")
def report(shape: Shape, tmp_path_factory: pytest.TempPathFactory) -> CampaignReport:
    params = RunParams(
        data=str(shape.data),
        mapping=str(shape.mapping) if shape.mapping else None,
        campaigns=[shape.campaign_id],
        output_dir=str(tmp_path_factory.mktemp("out")),
        n_paths=2000,
    )
    return build_campaign_report(params)


def test_every_section_is_in_its_documented_state(shape: Shape, report: CampaignReport) -> None:
    status = report.summary["sections"]
    if "stopped" in shape.traits:
        expected = {key: "skipped" for key in ENGINE_SECTIONS}
    else:
        expected = {key: "ok" for key in ENGINE_SECTIONS}
    assert {key: status[key] for key in ENGINE_SECTIONS} == expected
    assert status["summary"] == status["history"] == status["data_quality"] == "ok"
    # a channel without benchmarks keeps the section, skipped with the reason
    market = "skipped" if shape.name == "video-channel" else "ok"
    assert status["market"] == market
    assert report.summary["campaign_state"] == (
        "stopped" if "stopped" in shape.traits else "active"
    )


def test_forecast_intervals_are_ordered_and_finite(shape: Shape, report: CampaignReport) -> None:
    if "stopped" in shape.traits:
        pytest.skip("a stopped campaign is not forecast (tested above)")
    totals = report.summary["numbers"]["forecast"]["totals"]
    for metric in METRICS:
        band = totals[metric]
        assert all(math.isfinite(band[q]) and band[q] >= 0 for q in ("p10", "p50", "p90")), metric
        assert band["p10"] <= band["p50"] <= band["p90"], (metric, band)
    assert totals["conversions"]["p50"] > 0
    assert totals["spend"]["p50"] > 0


def test_conversions_per_spend_stay_in_line_with_the_history(
    shape: Shape, report: CampaignReport
) -> None:
    if "stopped" in shape.traits:
        pytest.skip("a stopped campaign is not forecast (tested above)")
    numbers = report.summary["numbers"]
    recent = numbers["history"]["last_28_days"]
    totals = numbers["forecast"]["totals"]
    past = recent["conversions"] / recent["spend"]
    ahead = totals["conversions"]["p50"] / totals["spend"]["p50"]
    # a factor 3 either way is far outside what a month of drift does; a misread decimal
    # mark, a column read as another or spend lost from the plan is a factor of 10 or more
    assert past / 3 < ahead < past * 3, (past, ahead)


def test_scenario_probabilities_add_up(shape: Shape, report: CampaignReport) -> None:
    if "stopped" in shape.traits:
        pytest.skip("a stopped campaign has no scenarios")
    scen = report.summary["numbers"]["scenarios"]
    bands = scen["probabilities"]
    assert bands["p_below_plan"] + bands["p_on_plan"] + bands["p_above_plan"] == pytest.approx(1)
    assert sum(scen["scenario_probabilities"].values()) == pytest.approx(1)
    low, mid, high = (scen["scenarios"][k] for k in ("pessimistic", "realistic", "optimistic"))
    assert low <= mid <= high


def test_risks_are_probabilities_and_pacing_needs_a_budget(
    shape: Shape, report: CampaignReport
) -> None:
    if "stopped" in shape.traits:
        pytest.skip("a stopped campaign is not scanned for risks")
    alerts = report.summary["numbers"]["risks"]["alerts"]
    assert alerts, "the risk section ran but named no risk kind"
    assert all(0.0 <= p <= 1.0 for p in alerts.values()), alerts
    if "no_budget" in shape.traits:
        # without a budget there is nothing to pace against: no alert may claim otherwise
        assert alerts.get("budget_pacing", 0.0) < 0.5, alerts


def test_pivots_name_this_campaign_and_order_their_impacts(
    shape: Shape, report: CampaignReport
) -> None:
    if "stopped" in shape.traits:
        pytest.skip("a stopped campaign gets no pivots")
    pivots = report.summary["numbers"]["pivots"]
    assert pivots["status"] == "ok"
    assert pivots["headline"]
    for rec in pivots["recommendations"]:
        assert shape.campaign_id in rec["campaign_ids"], rec
        band = rec["impact"]["conversions"]
        assert band["p10"] <= band["p50"] <= band["p90"], rec


def test_the_report_records_what_it_was_made_from(shape: Shape, report: CampaignReport) -> None:
    prov = report.summary["provenance"]
    assert len(prov["data_hash"]) == len(prov["params_hash"]) == 64
    assert prov["seed"] == 7


def test_revenue_is_not_invented_where_the_file_does_not_measure_it(
    shape: Shape, report: CampaignReport
) -> None:
    if "no_revenue" not in shape.traits or "stopped" in shape.traits:
        pytest.skip("this shape measures revenue")
    assert report.summary["numbers"]["history"]["last_28_days"]["revenue"] == 0
    assert report.summary["numbers"]["forecast"]["totals"]["revenue"]["p90"] == 0
