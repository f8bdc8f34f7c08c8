"""Google Trends exports in several locales, and enrichment: ties, daily values, flags,
quality scores, the fallback, and the forecast's candidate-regressor decision."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.connectors.enrich import (
    daily_values,
    enrich_panel,
    read_links,
    with_market_columns,
)
from simkit.connectors.trends import TrendsFolderSource, read_trends_export
from simkit.data.panel import CampaignPanel
from simkit.data.synthetic import generate
from simkit.errors import DataError, ParamsError
from simkit.forecast.market_regressors import choose_market_regressors, forecast_with_market

runner = CliRunner()

GERMAN_WEEKLY = (
    "Kategorie: Alle Kategorien\n\nWoche,laufschuhe: (Deutschland)\n"
    "2025-06-01,40\n2025-06-08,<1\n2025-06-15,55\n2025-06-22,60\n"
)
SPANISH_MONTHLY = (
    "Categoría: Todas las categorías\n\nMes,zapatillas: (España)\n2025-05,20\n2025-06,30\n"
)
ENGLISH_DAILY = "Category: All categories\n\nDay,shoes: (United States)\n" + "".join(
    f"2025-06-{d:02d},{d}\n" for d in range(1, 31)
)


def _write(folder, name, text, encoding="utf-8"):
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


def test_real_french_exports_read_with_frequency_terms_and_below_one(shared_data, tmp_path):
    folder = shared_data / "google_trends"
    found = {s.term: s for s in TrendsFolderSource(folder, cache_dir=tmp_path).series()}
    assert {"Corona", "diet", "gym", "finance", "yeezy", "heineken"} <= set(found)
    corona = found["Corona"]
    assert corona.frequency == "monthly" and corona.language == "fr"
    assert corona.geo == "États-Unis" and len(corona.values) == 264
    assert corona.dates[0] == pd.Timestamp("2004-01-01")
    assert corona.last_day == pd.Timestamp("2025-12-31")
    # Corona spikes in 2020-03 (PROVENANCE.md)
    assert corona.values[corona.dates.get_loc(pd.Timestamp("2020-03-01"))] == 100
    assert found["yeezy"].frequency == "weekly" and found["yeezy"].language == "en"
    assert found["Michelob Ultra"].below_one.sum() == 2  # "<\xa01" in the French export


def test_other_locales_and_encodings(tmp_path) -> None:
    (de,) = read_trends_export(_write(tmp_path, "de.csv", GERMAN_WEEKLY))
    assert (de.term, de.geo, de.frequency, de.language) == (
        "laufschuhe",
        "Deutschland",
        "weekly",
        "de",
    )
    assert de.values.tolist() == [40, 0.5, 55, 60] and de.below_one.tolist() == [
        False,
        True,
        False,
        False,
    ]
    (es,) = read_trends_export(_write(tmp_path, "es.csv", SPANISH_MONTHLY, "utf-16"))
    assert es.frequency == "monthly" and es.language == "es"
    (en,) = read_trends_export(_write(tmp_path, "en.csv", ENGLISH_DAILY))
    assert en.frequency == "daily" and len(en.values) == 30


def test_not_an_export_and_a_bad_value_are_located_errors(tmp_path) -> None:
    with pytest.raises(DataError, match="not a Google Trends export"):
        read_trends_export(_write(tmp_path, "x.csv", "a,b\n1,2\n"))
    bad = GERMAN_WEEKLY.replace("55", "lots")
    with pytest.raises(DataError, match=r"row 6, column 'laufschuhe: \(Deutschland\)'"):
        read_trends_export(_write(tmp_path, "bad.csv", bad))


def test_a_newer_export_of_the_same_term_replaces_the_older(tmp_path) -> None:
    _write(tmp_path, "a.csv", GERMAN_WEEKLY)
    _write(tmp_path, "b.csv", GERMAN_WEEKLY + "2025-06-29,70\n")
    source = TrendsFolderSource(tmp_path, cache_dir=tmp_path / "c")
    (s,) = source.series()
    assert s.file.endswith("b.csv") and len(s.values) == 5
    assert any("replaces older" in n or "unused" in n for n in source.notes)


def test_daily_values_step_linear_last_known_and_none(tmp_path) -> None:
    (s,) = read_trends_export(_write(tmp_path, "es.csv", SPANISH_MONTHLY))
    days = pd.date_range("2025-04-30", "2025-09-15")
    values, flags = daily_values(s, days, method="step")
    by_day = dict(zip(days.date, zip(values, flags, strict=True), strict=True))
    assert np.isnan(by_day[pd.Timestamp("2025-04-30").date()][0])
    assert by_day[pd.Timestamp("2025-04-30").date()][1] == "none"
    assert by_day[pd.Timestamp("2025-05-20").date()] == (20.0, "observed")
    assert by_day[pd.Timestamp("2025-06-30").date()] == (30.0, "observed")
    assert by_day[pd.Timestamp("2025-07-15").date()] == (30.0, "last_known")
    assert by_day[pd.Timestamp("2025-09-15").date()][1] == "none"  # beyond two periods
    linear, _ = daily_values(s, days, method="linear")
    mid_may, mid_june = (
        days.get_loc(pd.Timestamp("2025-05-16")),
        days.get_loc(pd.Timestamp("2025-06-15")),
    )
    assert linear[mid_may] == pytest.approx(20.0, abs=0.5)
    assert linear[mid_june] == pytest.approx(30.0, abs=0.5)
    assert 20 < linear[days.get_loc(pd.Timestamp("2025-06-01"))] < 30
    with pytest.raises(ParamsError, match="unknown daily method 'cubic'"):
        daily_values(s, days, method="cubic")


def _panel(end: str = "2025-06-30", n_days: int = 60) -> CampaignPanel:
    start = (pd.Timestamp(end) - pd.Timedelta(days=n_days - 1)).date()
    world = generate(3, n_days, rng=np.random.default_rng(3), events=None, start=start)
    return CampaignPanel.from_data(world.data)


def _links(tmp_path, text: str, panel: CampaignPanel, meta=None):
    path = _write(tmp_path, "links.yaml", text)
    return read_links(path, panel.ids, meta)


def test_enrich_ties_flags_quality_and_states_the_fallback(tmp_path) -> None:
    panel = _panel()
    (s,) = read_trends_export(_write(tmp_path, "de.csv", GERMAN_WEEKLY))
    meta = pd.DataFrame({"campaign_id": ["C002", "C003"], "industry": ["Retail", "Travel"]})
    links = _links(
        tmp_path,
        "campaigns:\n  C001: {topics: [laufschuhe], phrases: [running shoes, zzqx]}\n"
        "industries:\n  retail: {topics: [laufschuhe@deutschland, missing topic]}\n",
        panel,
        meta,
    )
    assert links.how["C001"] == "campaign entry" and links.how["C002"] == "industry Retail"
    assert links.how["C003"].startswith("no tie")
    keywords = pd.DataFrame(
        {
            "phrase": ["running shoes", "zzqx"],
            "search_volume": [110000.0, np.nan],
            "cpc": [1.2, np.nan],
            "competition": [1.0, np.nan],
            "status": ["ok", "nothing found"],
            "fetched_at": [pd.Timestamp.now(tz="UTC").isoformat()] * 2,
            "stale": [False, False],
        }
    )
    result = enrich_panel(panel, links=links, trends=[s], keywords=keywords)
    frame = result.frame
    c1 = frame[frame["campaign_id"] == "C001"].set_index("date")
    # the weekly export covers 2025-06-01..06-28: observed, then last known, before: none
    assert c1.loc[pd.Timestamp("2025-06-10"), "mkt_trend"] == 0.5
    assert c1.loc[pd.Timestamp("2025-06-10"), "mkt_trend_flag"] == "observed"
    assert c1.loc[pd.Timestamp("2025-06-30"), "mkt_trend_flag"] == "last_known"
    assert c1.loc[pd.Timestamp("2025-05-15"), "mkt_trend_flag"] == "none"
    assert np.isnan(c1.loc[pd.Timestamp("2025-05-15"), "mkt_trend"])
    assert c1["mkt_trend_method"].iloc[0] == "weekly->daily step"
    assert c1["mkt_search_volume"].iloc[0] == pytest.approx(110000 / 30.4375)
    assert (c1["mkt_keywords_flag"] == "observed").all()
    quality = {(q.campaign_id, q.column): q for q in result.quality}
    trend = quality[("C001", "mkt_trend")]
    assert trend.fallback == "none"  # the worst step used: some days have nothing
    assert trend.flags["observed"] == 28 and trend.flags["last_known"] == 2
    assert trend.coverage == pytest.approx(28 / 60)
    assert 0 < trend.score < 100
    kw = quality[("C001", "mkt_search_volume")]
    assert kw.fallback == "observed" and kw.coverage == 1.0
    assert any("zzqx" in n and "nothing" in n for n in kw.notes)
    c2 = quality[("C002", "mkt_trend")]
    assert any("missing topic" in n for n in c2.notes)
    assert all(frame.loc[frame["campaign_id"] == "C003", "mkt_trend_flag"] == "none")
    assert any(n.startswith("C003: no tie") for n in result.notes)


def test_a_stale_keywords_reply_is_flagged_and_scores_lower(tmp_path) -> None:
    panel = _panel()
    links = _links(tmp_path, "campaigns:\n  C001: {phrases: [running shoes]}\n", panel)

    def keywords(age_days: int, stale: bool) -> pd.DataFrame:
        fetched = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=age_days)
        return pd.DataFrame(
            {
                "phrase": ["running shoes"],
                "search_volume": [1000.0],
                "cpc": [1.0],
                "competition": [0.5],
                "status": ["ok"],
                "fetched_at": [fetched.isoformat()],
                "stale": [stale],
            }
        )

    fresh = enrich_panel(panel, links=links, keywords=keywords(1, False)).quality[0]
    old = enrich_panel(panel, links=links, keywords=keywords(90, False)).quality[0]
    served = enrich_panel(panel, links=links, keywords=keywords(1, True)).quality[0]
    assert fresh.fallback == "observed"
    assert old.fallback == "stale" and served.fallback == "stale"
    assert old.score < fresh.score


def test_links_file_errors_name_the_field(tmp_path) -> None:
    panel = _panel()
    with pytest.raises(ParamsError, match="field 'campaign'.*unknown key"):
        _links(tmp_path, "campaign: {}\n", panel)
    with pytest.raises(ParamsError, match=r"field 'campaigns.C001'"):
        _links(tmp_path, "campaigns:\n  C001: {topic: [x]}\n", panel)


@pytest.mark.slow
def test_market_regressor_is_used_only_where_the_backtest_says_it_helps() -> None:
    world = generate(1, 90, rng=np.random.default_rng(11), events=None, start="2025-03-03")
    panel = CampaignPanel.from_data(world.data)
    frames = []
    for cid in panel.ids:
        days = panel.campaign(cid)
        conv = days["conversions"].to_numpy(dtype=float)
        clicks = days["clicks"].to_numpy(dtype=float)
        # a "market" column that is the campaign's own CVR a day early (informative) and
        # one that is noise
        cvr = np.r_[conv[1:] / np.maximum(clicks[1:], 1), conv[-1] / max(clicks[-1], 1)]
        noise = np.random.default_rng(5).normal(size=len(days))
        frames.append(
            pd.DataFrame(
                {
                    "campaign_id": cid,
                    "date": days.index,
                    "mkt_trend": noise,
                    "mkt_search_volume": np.full(len(days), 3.0),
                    "mkt_cpc": cvr,
                }
            )
        )
    enriched = with_market_columns(panel, pd.concat(frames, ignore_index=True))
    report = choose_market_regressors(
        enriched, ["C001"], ["mkt_trend", "mkt_search_volume", "mkt_cpc"], horizon_days=7
    )
    by = {d.column: d for d in report.decisions}
    assert by["mkt_search_volume"].used is False
    assert "constant" in by["mkt_search_volume"].reason
    assert by["mkt_trend"].mae_with is not None and by["mkt_trend"].mae_without is not None
    # the rule, on every column that was backtested (an `if` inside the loop would pass
    # with none)
    measured = [d for d in report.decisions if d.mae_with is not None]
    assert {d.column for d in measured} == {"mkt_trend", "mkt_cpc"}
    for d in measured:
        assert d.used == (d.mae_with <= 0.98 * d.mae_without and 2 * d.wins > d.n_cutoffs), d.reason
    assert json.dumps(report.to_dict())  # the diagnostics serialise
    plan = np.full(7, float(panel.campaign("C001")["spend"].iloc[-14:].mean()))
    forecast = forecast_with_market(enriched, "C001", report, plan)
    assert report.used("C001") == [] and forecast.columns == ()  # noise does not help
    assert forecast.conversions.shape == (7,) and np.all(forecast.conversions > 0)
    forced = replace(report, decisions=[replace(by["mkt_trend"], used=True)])
    with_noise = forecast_with_market(enriched, "C001", forced, plan)
    assert with_noise.columns == ("mkt_trend",)
    assert not np.allclose(with_noise.conversions, forecast.conversions)


@pytest.mark.slow
def test_cli_enrich_on_demo_data_with_the_real_trends_exports(shared_data, tmp_path) -> None:
    generated = runner.invoke(
        app, ["generate", str(tmp_path / "demo"), "--end", "2025-11-30", "--days", "90"]
    )
    assert generated.exit_code == 0, generated.output
    data = tmp_path / "demo" / "campaigns.csv"
    (tmp_path / "demo" / "campaigns_market.yaml").write_text(
        "campaigns:\n  C001: {topics: [Corona, heineken]}\n"
        "industries:\n  Health & Medical: {topics: [gym]}\n"
    )
    out = tmp_path / "enriched.csv"
    done = runner.invoke(
        app,
        [
            "enrich", str(data), "--trends", str(shared_data / "google_trends"),
            "--output", str(out), "--backtest", "--horizon", "7", "--format", "json",
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    series = {(s["campaign_id"], s["column"]): s for s in payload["series"]}
    corona = series[("C001", "mkt_trend")]
    assert corona["fallback"] == "observed" and corona["coverage"] == 1.0
    assert corona["method"] == "monthly->daily step"
    # gym (worldwide, ends 2023-02): the health campaigns have nothing after April 2023
    gym = next(s for (c, col), s in series.items() if c != "C001" and col == "mkt_trend")
    assert gym["fallback"] == "none" and gym["coverage"] == 0.0 and gym["score"] < 20
    written = pd.read_csv(out)
    assert {"mkt_trend", "mkt_trend_flag", "mkt_trend_quality"} <= set(written.columns)
    decisions = payload["regressors"]["decisions"]
    assert {d["campaign_id"] for d in decisions} >= {"C001"}
    c001 = next(d for d in decisions if d["campaign_id"] == "C001")
    assert c001["mae_with"] > 0 and c001["mae_without"] > 0 and "conversions MAE" in c001["reason"]
    others = [d for d in decisions if d["campaign_id"] != "C001"]
    assert others and all(d["reason"] == "no values for this campaign" for d in others)
    assert all(d["used"] is False for d in others)
    assert json.loads((tmp_path / "enriched.csv.enrichment.json").read_text())["regressors"]


def test_cli_enrich_with_a_keywords_file_and_its_errors(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SIMKIT_TRENDS_DIR", raising=False)
    world = generate(2, 30, rng=np.random.default_rng(2), events=None, start="2025-06-01")
    data = tmp_path / "c.csv"
    world.data.to_csv(data, index=False)
    keywords = tmp_path / "kw.csv"
    pd.DataFrame(
        {
            "phrase": ["running shoes"],
            "database": ["us"],
            "search_volume": [30437.5],
            "cpc": [1.5],
            "competition": [0.4],
            "status": ["ok"],
            "fetched_at": [pd.Timestamp.now(tz="UTC").isoformat()],
            "from_cache": [False],
            "stale": [False],
        }
    ).to_csv(keywords, index=False)
    out = tmp_path / "e.csv"
    args = ["enrich", str(data), "--keywords", str(keywords), "--output", str(out)]
    missing = runner.invoke(app, args)
    assert missing.exit_code == 1 and "no links file" in missing.output
    (tmp_path / "c_market.yaml").write_text("campaigns:\n  C002: {phrases: [Running Shoes]}\n")
    done = runner.invoke(app, [*args, "--format", "json"])
    assert done.exit_code == 0, done.output
    written = pd.read_csv(out)
    c2 = written[written["campaign_id"] == "C002"]
    assert (c2["mkt_search_volume"] == 1000.0).all() and (
        c2["mkt_keywords_flag"] == "observed"
    ).all()
    assert written.loc[written["campaign_id"] == "C001", "mkt_search_volume"].isna().all()
    assert {"creative_generation", "present"}.isdisjoint(written.columns)
    checked = runner.invoke(app, ["validate", str(out), "--format", "json"])
    assert checked.exit_code == 0 and json.loads(checked.stdout)["ok"] is True
    nothing = runner.invoke(app, ["enrich", str(data), "--output", str(out)])
    assert nothing.exit_code == 1 and "nothing to merge" in nothing.output


# --------------------------------------------------------------------------- review fixes


def _cli_world(tmp_path):
    world = generate(2, 30, rng=np.random.default_rng(2), events=None, start="2025-06-01")
    data = tmp_path / "c.csv"
    world.data.to_csv(data, index=False)
    trends = tmp_path / "trends"
    trends.mkdir()
    _write(trends, "de.csv", GERMAN_WEEKLY)
    return data, trends


def _one_line_error(done, start: str) -> None:
    assert done.exit_code == 1
    assert done.output.count("\n") == 1 and "Traceback" not in done.output
    assert done.output.startswith(start), done.output


def test_a_dated_csv_that_is_not_a_trends_export_is_named_as_such(tmp_path) -> None:
    data, trends = _cli_world(tmp_path)
    (trends / "campaigns.csv").write_bytes(data.read_bytes())  # campaign data left there
    with pytest.raises(DataError, match=r"campaigns.csv: not a Google Trends export: no column"):
        TrendsFolderSource(trends, cache_dir=tmp_path / "cache").series()


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        (b"campaigns:\n  C001: {topics: [laufschuhe\n", "not YAML"),
        (b"campaigns:\n  C001: {topics: [caf\xe9]}\n", "cannot read the links file"),
        (
            b"campaigns:\n  C999: {topics: [laufschuhe]}\n",
            "field 'campaigns.C999': campaign 'C999' is not in the data",
        ),
    ],
    ids=["broken-yaml", "not-utf8", "absent-campaign"],
)
def test_cli_enrich_bad_links_are_one_line_and_write_nothing(tmp_path, links, expected) -> None:
    data, trends = _cli_world(tmp_path)
    path = tmp_path / "links.yaml"
    path.write_bytes(links)
    out = tmp_path / "e.csv"
    args = ["enrich", str(data), "--trends", str(trends), "--links", str(path), "-o", str(out)]
    done = runner.invoke(app, args)
    _one_line_error(done, f"simkit enrich: error: file {path}")
    assert expected in done.output
    assert list(tmp_path.glob("e.csv*")) == []


def test_cli_enrich_a_non_trends_csv_in_the_folder_and_a_bad_method(tmp_path) -> None:
    data, trends = _cli_world(tmp_path)
    (tmp_path / "c_market.yaml").write_text("campaigns:\n  C001: {topics: [laufschuhe]}\n")
    out = tmp_path / "e.csv"
    args = ["enrich", str(data), "--trends", str(trends), "-o", str(out)]
    method = runner.invoke(app, [*args, "--method", "cubic"])
    _one_line_error(method, "simkit enrich: error: field 'method': --method 'cubic'")
    (trends / "notes.csv").write_text("date,campaign_id,spend\n2025-06-01,C001,3\n")
    done = runner.invoke(app, args)
    _one_line_error(done, f"simkit enrich: error: file {trends / 'notes.csv'}: not a Google Trends")
    assert list(tmp_path.glob("e.csv*")) == []
    (trends / "notes.csv").unlink()
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert sorted(p.name for p in tmp_path.glob("e.csv*")) == ["e.csv", "e.csv.enrichment.json"]


def test_cli_enrich_an_output_under_a_file_is_one_line(tmp_path) -> None:
    data, trends = _cli_world(tmp_path)
    (tmp_path / "c_market.yaml").write_text("campaigns:\n  C001: {topics: [laufschuhe]}\n")
    out = tmp_path / "c.csv" / "e.csv"  # c.csv is the data file
    done = runner.invoke(app, ["enrich", str(data), "--trends", str(trends), "-o", str(out)])
    _one_line_error(done, f"simkit enrich: error: file {out}: cannot be written: {data} is a file")
    assert not list(tmp_path.glob(".*.tmp"))
