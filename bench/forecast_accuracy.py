"""Forecast accuracy, calibration and speed of the ensemble (issue 3 bars).

Prints, for a 14-day horizon, per member and for the ensemble: MASE of daily conversions
(relative to the seasonal naive on the same backtest days), coverage of the 80% interval,
and seconds per campaign, on the three real campaigns (online_ad_performance) and on
synthetic campaigns without events; then coverage pooled over the synthetic backtests and
a speed section (120 days, 28-day forecast, with and without the LSTM, a cached re-run, and
the seconds each member spends in its fits).

Usage::

    .venv/bin/python bench/forecast_accuracy.py [--synthetic N] [--no-lstm] [--shared PATH]
        [--family a|b|both] [--skip-real] [--skip-speed] [--skip-backtest] [--origins N]

Synthetic campaigns come from world family A (:mod:`simkit.data.synthetic`, the generator
simkit was tuned on) and/or B (:mod:`simkit.data.worlds`, written apart from it: five
channels, rotating creatives, conversions lagged 0-7 days after the clicks, missing days,
heavy-tailed noise, campaigns without budget or creative id); ``--family`` (default both)
chooses, and each is printed under its own heading with the same counts.  Each family
then gets the **daily ratio** (issue 16): the daily p50 of conversions over 14 days from
several origins, MAE divided by the same-weekday-last-week MAE, beside Prophet with spend
as a regressor and statsforecast (AutoARIMA with log spend as exogenous, AutoETS) on the
same days, and the **true process** (the generator's expected conversions given the
realised spend, noise at its median: the floor that noise leaves), then each of simkit's
members alone through the funnel (``--skip-daily`` leaves it out, ``--skip-backtest``
keeps only it, ``--origins`` sets the origins per campaign).  Nothing in the
ensemble is learned across campaigns (its weights are fitted per campaign on that
campaign's backtest), so there is no trained-on/scored-on split here.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from simkit.data.synthetic import generate
from simkit.data.worlds import family as world_family
from simkit.forecast import ForecastCache, backtest_campaign, forecast_campaign
from simkit.forecast.api import DEFAULT_MEMBERS
from simkit.forecast.drivers import funnel_from_drivers

REPO = Path(__file__).resolve().parents[1]
HORIZON = 14


def _shared(path: str | None) -> Path | None:
    for p in (path, os.environ.get("SIMKIT_SHARED_DATA"), REPO.parent / "shared" / "data"):
        if p and Path(p).is_dir():
            return Path(p)
    return None


def _table(title: str, results: list) -> None:
    members = list(dict.fromkeys(m for r in results for m in r.members))
    nan = float("nan")
    print(f"\n{title}")
    header = f"{'campaign':<10} {'days':>4} {'cuts':>4} " + " ".join(
        f"{m[:14]:>14}" for m in [*members, "ensemble"]
    )
    print("MASE (conversions, 14-day horizon; seasonal naive = 1)")
    print(header + f" {'best':>8} {'ens/best':>8} {'sec':>6}")
    for r, days, secs in results_rows(results):
        row = [r.members[m].mase if m in r.members else nan for m in members]
        row.append(r.ensemble.mase)
        best = min(s.mase for s in r.members.values())
        print(
            f"{r.campaign_id:<10} {days:>4} {len(r.cutoffs):>4} "
            + " ".join(f"{v:>14.3f}" if v == v else f"{'-':>14}" for v in row)
            + f" {best:>8.3f} {r.ensemble.mase / best:>8.3f} {secs:>6.1f}"
        )
    print("coverage of the 80% interval (daily conversions)")
    print(header)
    for r, days, _ in results_rows(results):
        cov = [r.members[m].coverage_80 if m in r.members else nan for m in members]
        cov.append(r.ensemble.coverage_80)
        print(
            f"{r.campaign_id:<10} {days:>4} {len(r.cutoffs):>4} "
            + " ".join(f"{v:>14.1%}" if v == v else f"{'-':>14}" for v in cov)
        )
    print("ensemble weights (mean over log_cpm, logit_ctr, logit_cvr)")
    for r, _, _ in results_rows(results):
        print(
            f"{r.campaign_id:<10} "
            + ", ".join(f"{m}={r.members[m].weight:.2f}" for m in members if m in r.members)
        )


def results_rows(results: list):
    for r in results:
        yield r, r.days, r.seconds


class _Row:
    """A BacktestResult with the history length attached (for printing)."""

    def __init__(self, result, days: int) -> None:
        self.__dict__.update(result.__dict__)
        self.days = days


def _run_set(data, ids, members, cache, seed=0) -> list[_Row]:
    rows = []
    for cid in ids:
        n = int((data["campaign_id"].astype(str) == cid).sum())
        r = backtest_campaign(data, cid, HORIZON, members=members, seed=seed, cache=cache)
        rows.append(_Row(r, n))
        for w in r.warnings:
            print(f"  [{cid}] warning: {w}")
    return rows


def _pooled_synthetic(rows: list[_Row], family: str = "a") -> None:
    n = np.array([r.ensemble.n_points for r in rows], dtype=float)
    cov = {
        lv: np.sum([getattr(r.ensemble, f"coverage_{lv}") * r.ensemble.n_points for r in rows])
        / n.sum()
        for lv in (50, 80, 95)
    }
    mase = np.array([r.ensemble.mase for r in rows])
    best = np.array([min(s.mase for s in r.members.values()) for r in rows])
    totals = [
        r.ensemble.total_coverage_80 for r in rows if np.isfinite(r.ensemble.total_coverage_80)
    ]
    print(
        f"\nsynthetic family {family.upper()}, pooled over {len(rows)} campaigns and "
        f"{int(n.sum())} backtest days: ensemble coverage 50/80/95 = {cov[50]:.1%} / "
        f"{cov[80]:.1%} / {cov[95]:.1%}; 14-day total within 80% interval: "
        f"{np.mean(totals):.1%} of {len(totals)} windows"
    )
    ok = np.isfinite(mase) & np.isfinite(best)
    if not ok.all():
        # the scorer leaves days missing from the data out (simkit.forecast.ensemble), so
        # this only happens when a member could not be scored at all
        print(f"  {int((~ok).sum())} of {len(rows)} campaigns have no MASE")
    m, b = mase[ok], best[ok]
    print(
        f"family {family.upper()} ensemble MASE over {int(ok.sum())} campaigns: mean "
        f"{m.mean():.3f} (geometric {np.exp(np.log(m).mean()):.3f}); mean of best member "
        f"per campaign {b.mean():.3f}; ensemble/best (geometric mean of ratios) "
        f"{np.exp(np.mean(np.log(m / b))):.3f}"
    )


def _same_weekday_last_week(series: pd.Series, day: pd.Timestamp, origin: pd.Timestamp) -> float:
    """The value on the latest day with the same weekday as ``day``, on or before
    ``origin``, that the data report (a missing day is passed over)."""
    back = day - pd.Timedelta(days=7)
    while back > origin:
        back -= pd.Timedelta(days=7)
    while back >= series.index[0]:
        value = series.get(back, np.nan)
        if np.isfinite(value):
            return float(value)
        back -= pd.Timedelta(days=7)
    return float("nan")


def _prophet_daily(hist: pd.DataFrame, future_spend: np.ndarray, dates) -> np.ndarray:  # noqa: ANN001
    """Prophet on daily conversions with log spend as an extra regressor (weekly
    seasonality, yearly off: months of history), fitted on the days reported."""
    from prophet import Prophet

    frame = pd.DataFrame(
        {
            "ds": hist.index,
            "y": hist["conversions"].to_numpy(float),
            "log_spend": np.log(np.maximum(hist["spend"].to_numpy(float), 0.01)),
        }
    ).dropna()
    model = Prophet(
        yearly_seasonality=False,
        weekly_seasonality=True,
        daily_seasonality=False,
        uncertainty_samples=0,
    )
    model.add_regressor("log_spend")
    model.fit(frame)
    future = pd.DataFrame({"ds": dates, "log_spend": np.log(np.maximum(future_spend, 0.01))})
    return np.maximum(model.predict(future)["yhat"].to_numpy(float), 0.0)


def _statsforecast_daily(hist: pd.DataFrame, future_spend: np.ndarray) -> dict[str, np.ndarray]:
    """statsforecast AutoARIMA(7) with log spend as exogenous regressor, and AutoETS(7),
    on daily conversions (the history's missing days interpolated: they need a regular
    series)."""
    from statsforecast.models import AutoARIMA, AutoETS

    regular = hist[["conversions", "spend"]].interpolate(limit_direction="both")
    y = regular["conversions"].to_numpy(float)
    x = np.log(np.maximum(regular["spend"].to_numpy(float), 0.01))[:, None]
    xf = np.log(np.maximum(future_spend, 0.01))[:, None]
    h = len(future_spend)
    arima = AutoARIMA(season_length=7).fit(y, X=x).predict(h, X=xf)["mean"]
    ets = AutoETS(season_length=7).fit(y).predict(h)["mean"]
    return {"arima": np.maximum(arima, 0.0), "ets": np.maximum(ets, 0.0)}


#: simkit's members scored alone on the daily ratio (each member's driver centres through
#: the funnel at the plan), to see where the ensemble's error comes from.
_COMPOSED = ("seasonal_naive", "ets", "sarimax", "prophet", "lstm")


def _true_process(truth, dates: pd.DatetimeIndex, first: pd.Timestamp) -> np.ndarray:  # noqa: ANN001
    """The true process's daily centre on ``dates``: the generator's expected recorded
    conversions given the realised spend, creatives and seasonality, with the noise at its
    median (``CampaignTruth.expected_conversions``, one value per calendar day)."""
    expected = np.asarray(truth.expected_conversions, dtype=float)
    index = (dates - first).days.to_numpy()
    return expected[index]


def _daily_ratio(world, members: list[str], family: str, n_origins: int, cache) -> None:  # noqa: ANN001
    """Daily p50 of conversions over 14 days: MAE / same-weekday-last-week MAE (issue 16).

    For every campaign, forecasts from ``n_origins`` origins a week apart (the last whose
    14-day window ends on the last day of data, then earlier), each on the data up to the
    origin only, with the window's spend as the plan (known in advance; a missing day's
    spend interpolated).  simkit's daily p50 is the forecast centre through the funnel (the
    median of each driver: the median of the daily conversions' predictive distribution
    up to the small skew of the logit).  Scored on the days the data report; the ratio
    pools the absolute errors over campaigns and origins.
    """
    import warnings

    ids = sorted(world.data["campaign_id"].unique())
    first = pd.Timestamp(world.data["date"].min())
    # keyed "member:<name>" (the bench's own Prophet and AutoETS hold "prophet", "ets")
    composed = [f"member:{m}" for m in _COMPOSED if m in members]
    err = {k: [] for k in ("simkit", "truth", "prophet", "arima", "ets", "naive", *composed)}
    per = []
    level: dict[str, float] = {}  # summed forecasts and actuals on the scored days
    t0 = time.perf_counter()
    for cid in ids:
        rows = world.data[world.data["campaign_id"] == cid].copy()
        rows["date"] = pd.to_datetime(rows["date"])
        daily = rows.set_index("date")[["spend", "conversions"]].asfreq("D")
        last = daily.index[-1]
        row_err = {k: [] for k in err}
        for k in range(n_origins):
            origin = last - pd.Timedelta(days=HORIZON + 7 * k)
            dates = pd.date_range(origin + pd.Timedelta(days=1), periods=HORIZON, freq="D")
            window = daily.loc[dates]
            plan = window["spend"].interpolate(limit_direction="both").to_numpy(float)
            hist = daily.loc[:origin]
            fc = forecast_campaign(
                rows[rows["date"] <= origin],
                cid,
                HORIZON,
                plan=plan,
                members=members,
                seed=k,
                cache=cache,
            )
            preds = {"simkit": fc.point_volumes()["conversions"].to_numpy(float)}
            preds["truth"] = _true_process(world.truth[cid], dates, first)
            for name in composed:
                member = fc.member_forecasts.get(name.removeprefix("member:"))
                preds[name] = (
                    funnel_from_drivers(member, plan)["conversions"]
                    if member is not None
                    else np.full(HORIZON, np.nan)
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                preds["prophet"] = _prophet_daily(hist, plan, dates)
                preds.update(_statsforecast_daily(hist, plan))
            conv = hist["conversions"]
            preds["naive"] = np.array([_same_weekday_last_week(conv, d, origin) for d in dates])
            truth = window["conversions"].to_numpy(float)
            seen = np.isfinite(truth)
            for name, p in preds.items():
                row_err[name].append(np.abs(p - truth)[seen])
                level[name] = level.get(name, 0.0) + float(np.nansum(p[seen]))
            level["actual"] = level.get("actual", 0.0) + float(truth[seen].sum())
        for name in err:
            err[name].extend(row_err[name])
        nv = np.concatenate(row_err["naive"]).sum()
        per.append((cid, {n: np.nansum(np.concatenate(v)) / nv for n, v in row_err.items()}))
    print(
        f"\ndaily p50 of conversions, family {family.upper()}: {len(ids)} campaigns x "
        f"{n_origins} origins, 14 days each; MAE / same-weekday-last-week MAE "
        f"(bar for simkit: < 0.60); {time.perf_counter() - t0:.0f} s"
    )
    names = ["simkit", "prophet", "arima", "ets", "truth"]
    labels = {
        "simkit": "simkit",
        "prophet": "Prophet+spend",
        "arima": "sf AutoARIMA+spend",
        "ets": "sf AutoETS",
        "truth": "true process",
    }
    base = np.concatenate(err["naive"]).sum()
    pooled = {n: np.nansum(np.concatenate(err[n])) / base for n in err}
    for group in (names, composed):
        print(f"{'campaign':<10} " + " ".join(f"{labels.get(n, n)[:18]:>18}" for n in group))
        for cid, ratio in per:
            print(f"{cid:<10} " + " ".join(f"{ratio[n]:>18.3f}" for n in group))
        print(f"{'pooled':<10} " + " ".join(f"{pooled[n]:>18.3f}" for n in group))
        print(
            f"{'sum/actual':<10} " + " ".join(f"{level[n] / level['actual']:>18.3f}" for n in group)
        )
        if group is names:
            print("simkit's members, each alone through the funnel (diagnostic):")
    verdict = "met" if pooled["simkit"] < 0.60 else "MISSED"
    beats = all(pooled["simkit"] < pooled[n] for n in names[1:4])
    print(
        f"family {family.upper()} daily ratio: simkit {pooled['simkit']:.3f} [{verdict}]; "
        f"{'beats' if beats else 'does not beat'} Prophet+spend {pooled['prophet']:.3f}, "
        f"AutoARIMA+spend {pooled['arima']:.3f}, AutoETS {pooled['ets']:.3f}; "
        f"true process {pooled['truth']:.3f}"
    )


def _speed(members_with: list[str], members_without: list[str]) -> None:
    world = generate(1, 120, rng=np.random.default_rng(2024), events=None)
    print("\nspeed: one campaign, 120 days of history, full ensemble fit + 28-day forecast")
    print(f"{'configuration':<44} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, members in (("without LSTM", members_without), ("with LSTM", members_with)):
            if members is None:
                continue
            cache = ForecastCache(Path(tmp) / label.replace(" ", "_"))
            t = time.perf_counter()
            forecast_campaign(world.data, "C001", 28, members=members, cache=cache)
            cold = time.perf_counter() - t
            t = time.perf_counter()
            fc = forecast_campaign(world.data, "C001", 28, members=members, cache=cache)
            warm = time.perf_counter() - t
            print(f"{label + ' (' + ','.join(members) + ')':<44} {cold:>8.2f}")
            print(
                f"{label + ', cached re-run (hit=' + str(fc.cache['hit']) + ')':<44} {warm:>8.2f}"
            )
    _member_times(world.data, members_with or members_without)


def _member_times(data, members: list[str]) -> None:
    """Seconds per member for the fits a 28-day forecast of that campaign makes (one fit and
    forecast per backtest cutoff plus one on the full history), as the ensemble runs them
    (one BLAS thread)."""
    from simkit.forecast.api import _single_threaded_blas
    from simkit.forecast.backtest import choose_cutoffs
    from simkit.forecast.drivers import calendar_features, driver_history
    from simkit.forecast.members import make_member

    hist = driver_history(data, "C001")
    X = calendar_features(hist.dates, hist.log_spend(), "US")
    ends = [c + 1 for c in choose_cutoffs(hist.n_days, 28)] + [hist.n_days]
    print(f"per-member fit + forecast, {len(ends)} fits (cutoffs {ends[:-1]} and the full history)")
    print(f"{'member':<16} {'total s':>8} {'per fit s':>10}")
    with _single_threaded_blas():
        for name in members:
            t = time.perf_counter()
            for end in ends:
                future = X.iloc[end : end + 28] if end < hist.n_days else X.iloc[-28:]
                make_member(name).fit(hist.drivers.iloc[:end], X.iloc[:end]).predict(
                    len(future), future
                )
            total = time.perf_counter() - t
            print(f"{name:<16} {total:>8.2f} {total / len(ends):>10.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=6, help="synthetic campaigns")
    parser.add_argument("--days", type=int, default=120, help="synthetic history length")
    parser.add_argument("--no-lstm", action="store_true", help="leave the LSTM out")
    parser.add_argument("--shared", default=None, help="path to shared/data")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-real", action="store_true", help="leave the real data out")
    parser.add_argument(
        "--skip-daily", action="store_true", help="leave the daily p50 ratio section out"
    )
    parser.add_argument(
        "--skip-backtest",
        action="store_true",
        help="leave the synthetic families' backtest MASE tables out (daily ratio only)",
    )
    parser.add_argument(
        "--origins", type=int, default=3, help="forecast origins per campaign, daily ratio"
    )
    parser.add_argument(
        "--family",
        choices=("a", "b", "both"),
        default="both",
        help="synthetic world family (a: simkit.data.synthetic, b: simkit.data.worlds)",
    )
    parser.add_argument(
        "--cache-dir", default=None, help="reuse fits across bench runs (default: no cache)"
    )
    parser.add_argument(
        "--members",
        default=None,
        help="comma-separated ensemble members (default: simkit's defaults and the LSTM), "
        "e.g. seasonal_naive,ets,sarimax,prophet",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    # every member, the opt-in LSTM included unless --no-lstm
    chosen = args.members.split(",") if args.members else [*DEFAULT_MEMBERS, "lstm"]
    everything = list(dict.fromkeys(chosen))
    members = [m for m in everything if not (args.no_lstm and m == "lstm")]
    print(f"simkit forecast bench: horizon {HORIZON} days, members {', '.join(members)}")
    print(f"machine: {os.cpu_count()} cores (timings contended if other jobs run)")

    cache = ForecastCache(args.cache_dir) if args.cache_dir else False
    shared = _shared(args.shared)
    if args.skip_real:
        print("real data: skipped (--skip-real)")
    elif shared is None:
        print("real data: skipped (../shared/data not found)", file=sys.stderr)
    else:
        from simkit.data import load

        loaded = load(
            shared / "online_ad_performance" / "online_advertising_performance_data.csv",
            mapping=REPO / "params" / "sources" / "online_ad_performance.yaml",
        )
        ids = sorted(loaded.data["campaign_id"].astype(str).unique())
        rows = _run_set(loaded.data, ids, members, cache)
        _table("REAL: online_ad_performance (conversions = post_click_conversions)", rows)

    for family in ("a", "b") if args.family == "both" else (args.family,):
        print(f"\n{'#' * 88}\n# FAMILY {family.upper()}\n{'#' * 88}")
        world = world_family(family)(
            args.synthetic, args.days, rng=np.random.default_rng(3), events=None
        )
        ids = sorted(world.data["campaign_id"].unique())
        if not args.skip_backtest:
            rows = _run_set(world.data, ids, members, cache)
            _table(
                f"SYNTHETIC family {family.upper()}: {args.synthetic} campaigns x {args.days} "
                "days, no events",
                rows,
            )
            _pooled_synthetic(rows, family)
        if not args.skip_daily:
            _daily_ratio(world, members, family, args.origins, cache)

    if not args.skip_speed:
        without = [m for m in everything if m != "lstm"]
        _speed(None if args.no_lstm else everything, without)


if __name__ == "__main__":
    main()
