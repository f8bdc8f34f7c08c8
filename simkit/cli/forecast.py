"""``simkit simulate`` and ``simkit backtest``: the Monte Carlo funnel and the forecast's record."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import (
    AsOfOption,
    Format,
    FormatOption,
    MappingOption,
    OnBadRowsOption,
    RegistryOption,
    SourceOption,
    parse_date_option,
    positive,
)
from simkit.cli.reading import load_data
from simkit.errors import SimkitError
from simkit.forecast import ForecastCache, backtest_campaign, forecast_campaign
from simkit.forecast.cache import DEFAULT_CACHE_DIR
from simkit.ledger import Ledger, capturing_forecaster, record_simulation
from simkit.ledger.record import files_hash
from simkit.simulate import simulate_campaign
from simkit.simulate.llm_scenarios import campaign_llm_scenarios
from simkit.simulate.summary import OUTCOMES, check_scenario_cuts

group = typer.Typer()


@group.command()
@handle_errors
def simulate(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    campaign: Annotated[
        str,
        typer.Option(
            "--campaign",
            "-c",
            help="campaign id, or 'all': every campaign, as a JSON list (one forecast cache "
            "shared by their fits)",
        ),
    ],
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=730, help="days to simulate")],
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    as_of: AsOfOption = None,
    daily_budget: Annotated[
        float | None, typer.Option("--daily-budget", min=0.0, help="daily budget, every day")
    ] = None,
    total_budget: Annotated[
        float | None, typer.Option("--total-budget", min=0.0, help="total budget over the horizon")
    ] = None,
    plan: Annotated[
        Path | None, typer.Option("--plan", help="plan CSV: date, campaign_id, spend")
    ] = None,
    paths: Annotated[int, typer.Option("--paths", min=100, max=1_000_000)] = 10_000,
    seed: int = 0,
    outcome: Annotated[
        str, typer.Option("--outcome", help="conversions, revenue or roas (scenarios, bands)")
    ] = "conversions",
    goal: Annotated[
        float | None, typer.Option("--goal", help="the outcome's goal over the horizon")
    ] = None,
    target_cpa: Annotated[
        float | None,
        typer.Option("--target-cpa", callback=positive, help="target cost per acquisition"),
    ] = None,
    target_roas: Annotated[
        float | None,
        typer.Option("--target-roas", callback=positive, help="target return on ad spend"),
    ] = None,
    fatigue: Annotated[
        bool, typer.Option("--fatigue/--no-fatigue", help="apply the fitted creative fatigue")
    ] = True,
    scenario_cuts: Annotated[
        str,
        typer.Option(
            "--scenario-cuts",
            help="quantiles of the outcome that split the paths into the pessimistic, "
            "realistic and optimistic scenarios, as LOW,HIGH",
        ),
    ] = "0.2,0.8",
    llm_scenarios: Annotated[
        bool,
        typer.Option(
            "--llm-scenarios",
            help="also ask a language model for scenario assumptions, each quantified by "
            "simkit against this baseline (needs OPENAI_API_KEY; JSON key llm_scenarios)",
        ),
    ] = False,
    llm_model: Annotated[str, typer.Option("--llm-model", help="the model's name")] = "gpt-4o",
    record: Annotated[
        bool,
        typer.Option(
            "--record/--no-record", help="record the forecast in the ledger (default: record)"
        ),
    ] = True,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Simulate a campaign's next days: quantiles, totals, scenarios and probabilities."""
    if outcome not in OUTCOMES:
        raise SimkitError(f"--outcome must be one of {', '.join(OUTCOMES)}, not '{outcome}'")
    cut = parse_date_option(as_of, "--as-of")
    try:
        cuts = check_scenario_cuts(tuple(float(x) for x in scenario_cuts.split(",")))
    except (ValueError, SimkitError) as exc:
        raise SimkitError(
            f"--scenario-cuts must be LOW,HIGH with 0 < LOW < HIGH < 1, such as 0.2,0.8, "
            f"not '{scenario_cuts}'"
        ) from exc
    loaded = load_data(data, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
    ledger = Ledger(registry) if record else None  # a ledger that cannot open fails first
    options: dict[str, Any] = dict(
        as_of=cut,
        daily_budget=daily_budget,
        total_budget=total_budget,
        plan_file=plan,
        n_paths=paths,
        seed=seed,
        outcome=outcome,
        goal=goal,
        target_cpa=target_cpa,
        target_roas=target_roas,
        fatigue=fatigue,
        scenario_cuts=cuts,
    )
    # what the ledger's params hash covers (the command's own options, not the data)
    hashed: dict[str, Any] = {
        "command": "simulate",
        "horizon": horizon,
        "as_of": as_of,
        "daily_budget": daily_budget,
        "total_budget": total_budget,
        "plan": plan.name if plan else None,
        "paths": paths,
        "seed": seed,
        "outcome": outcome,
        "goal": goal,
        "target_cpa": target_cpa,
        "target_roas": target_roas,
        "fatigue": fatigue,
        "scenario_cuts": list(cuts),
    }

    def recorded(result: Any, cid: str, kept: list[Any]) -> Any:
        if ledger is None:
            return result
        canonical = json.dumps({**hashed, "campaign": cid}, sort_keys=True, separators=(",", ":"))
        forecast_id = record_simulation(
            result,
            ledger=ledger,
            forecast=kept[-1] if kept else None,
            source="simulate",
            params_hash=hashlib.sha256(canonical.encode()).hexdigest(),
            data_hash=files_hash(data, mapping, plan),
        )
        return dataclasses.replace(result, extra={**result.extra, "forecast_id": forecast_id})

    if campaign != "all":
        forecaster, kept = capturing_forecaster()
        result = simulate_campaign(
            loaded.data, campaign, horizon, forecast_fn=forecaster, **options
        )
        result = recorded(result, campaign, kept)
        if not llm_scenarios:
            render.emit(result, fmt, render.simulation)
            return
        scenarios = campaign_llm_scenarios(
            loaded.data,
            campaign,
            horizon,
            seed=seed,
            n_paths=paths,
            model=llm_model,
            as_of=cut,
            daily_budget=daily_budget,
            total_budget=total_budget,
            plan_file=plan,
            outcome=outcome,
            target_cpa=target_cpa,
            target_roas=target_roas,
            fatigue=fatigue,
        )
        if fmt is Format.json:
            render.emit({**result.to_dict(), "llm_scenarios": scenarios.to_dict()}, fmt)
            return
        render.simulation(result)
        render.llm_scenarios(scenarios)
        return
    if llm_scenarios:
        raise SimkitError("--llm-scenarios takes one campaign, not --campaign all")
    _simulate_all(loaded.data, horizon, options, fmt, recorded)


def _simulate_all(
    data: pd.DataFrame,
    horizon: int,
    options: dict[str, Any],
    fmt: Format,
    recorded: Callable[[Any, str, list[Any]], Any],
) -> None:
    """``--campaign all``: every campaign of the file, loaded and validated once, each
    simulated as ``--campaign ID`` would be (same seed, same numbers) and recorded in the
    ledger like it, their forecast fits going through one shared
    :class:`~simkit.forecast.ForecastCache` (a re-run, or a ``simkit run`` on the same data
    and settings, reuses them).  A campaign that cannot be simulated (stopped, too short) is
    an entry with its error; the exit code is then 1."""
    cache = ForecastCache(DEFAULT_CACHE_DIR)
    kept: list[Any] = []

    def forecast(history: pd.DataFrame, cid: str, h: int, plan: np.ndarray, seed: int) -> Any:
        result = forecast_campaign(history, cid, h, plan=plan, seed=seed, cache=cache)
        kept.append(result)
        return result.drivers

    results: list[Any] = []
    for cid in sorted(data["campaign_id"].astype(str).unique()):
        try:
            result = simulate_campaign(data, cid, horizon, forecast_fn=forecast, **options)
        except SimkitError as exc:
            results.append({"campaign_id": cid, "error": str(exc)})
            continue
        results.append(recorded(result, cid, kept))
    if fmt is Format.json:
        render.emit([r if isinstance(r, dict) else r.to_dict() for r in results], fmt)
    else:
        for r in results:
            if isinstance(r, dict):
                render.warn(f"{r['campaign_id']}: {r['error']}")
            else:
                render.simulation(r)
        render.cache_stats(cache.stats())
    if any(isinstance(r, dict) for r in results):
        raise typer.Exit(1)


@group.command()
@handle_errors
def backtest(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    campaign: Annotated[
        str | None, typer.Option("--campaign", "-c", help="campaign id (or --all)")
    ] = None,
    all_campaigns: Annotated[bool, typer.Option("--all", help="every campaign")] = False,
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=365, help="days ahead")] = 14,
    members: Annotated[
        str | None,
        typer.Option("--members", help="comma-separated members (default: all available)"),
    ] = None,
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="conversions (default), revenue, clicks, impressions, cpm, ctr, cvr, rpc, "
            "or a driver (log_cpm, logit_ctr, logit_cvr, log_rpc)",
        ),
    ] = "conversions",
    seed: int = 0,
    country: Annotated[
        str, typer.Option("--country", help="holiday calendar (ISO code), 'none' for none")
    ] = "US",
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="forecast cache (default .simkit-cache)")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="do not read or write the cache")
    ] = False,
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Rolling-origin backtest of each forecast member and of the ensemble."""
    if (campaign is None) == (not all_campaigns):
        raise SimkitError("give exactly one of --campaign ID or --all")
    loaded = load_data(data, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
    ids = sorted(loaded.data["campaign_id"].astype(str).unique()) if all_campaigns else [campaign]
    names = [m.strip() for m in members.split(",") if m.strip()] if members else None
    cache = ForecastCache(None if no_cache else (cache_dir or DEFAULT_CACHE_DIR))
    results = [
        backtest_campaign(
            loaded.data,
            cid,
            horizon,
            members=names,
            seed=seed,
            metric=metric,
            country=None if country.lower() == "none" else country,
            cache=cache,
        )
        for cid in ids
    ]
    if fmt is Format.json:
        render.emit([r.to_dict() for r in results] if all_campaigns else results[0], fmt)
    else:
        render.backtests(results)
        render.cache_stats(cache.stats())
