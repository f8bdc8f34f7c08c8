"""How a campaign compares with its industry: CTR, CPC, CVR and CPA against the benchmarks.

For each campaign the four metrics are computed from the contract data over a window
(the whole history, or the last ``N`` days of the data), matched to the published figure
for the campaign's industry and channel (:mod:`simkit.market.benchmarks`), and described
in plain words that name the figure's source and year, the deviation in percent, and where
the campaign sits in the range of all published figures for that industry, channel and
metric.

The metrics are ratios of sums over the window (total clicks / total impressions, ...),
the way the benchmark reports compute account-level figures, not means of daily ratios.

A campaign is compared with what can be compared, and nothing about one campaign stops the
others: every campaign asked for has its row.  When its channel has no published
benchmarks (``video``) or is not known, its row has the campaign's own metrics, no
benchmark, and a ``reason``; when its industry is not given it is compared with the
all-industry figures, flagged, with a note saying how to give it.  Only what the caller
passed explicitly (``industry=``, ``platform=``, an unknown campaign id) raises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from simkit._suggest import did_you_mean
from simkit.errors import DataError, ParamsError
from simkit.market.benchmarks import (
    ALL_INDUSTRIES,
    CHANNELS,
    METRICS,
    BenchmarkFigure,
    BenchmarkTable,
    channel_of,
    load_benchmarks,
)

__all__ = [
    "BenchmarkComparison",
    "CampaignComparison",
    "MetricComparison",
    "campaign_metrics",
    "compare_campaigns",
    "compare_metric",
    "format_metric",
]

Position = Literal["below", "within", "above", "at"]

#: Campaign metric -> (numerator column, denominator column) of the contract.
_RATIOS: dict[str, tuple[str, str]] = {
    "ctr": ("clicks", "impressions"),
    "cpc": ("spend", "clicks"),
    "cvr": ("conversions", "clicks"),
    "cpa": ("spend", "conversions"),
}
_SHORT = {"ctr": "CTR", "cpc": "CPC", "cvr": "conversion rate", "cpa": "cost per conversion"}


def campaign_metrics(frame: pd.DataFrame) -> dict[str, float]:
    """CTR, CPC, CVR and CPA of one campaign's rows, as ratios of sums (NaN when undefined).

    Examples
    --------
    >>> frame = pd.DataFrame({"spend": [10.0, 30.0], "impressions": [1000, 3000],
    ...                       "clicks": [10, 30], "conversions": [1, 1]})
    >>> campaign_metrics(frame)["cpa"]
    20.0
    """
    totals = frame[["spend", "impressions", "clicks", "conversions"]].sum()
    out: dict[str, float] = {}
    for name, (num, den) in _RATIOS.items():
        denominator = float(totals[den])
        out[name] = float(totals[num]) / denominator if denominator > 0 else float("nan")
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def format_metric(metric: str, value: float) -> str:
    """A metric value for people: ``1.23%`` for rates, ``$4.56`` for costs, ``n/a``."""
    if not np.isfinite(value):
        return "n/a"
    if METRICS[metric].unit == "fraction":
        return f"{100 * value:.2f}%"
    return f"${value:,.2f}"


@dataclass(frozen=True)
class MetricComparison:
    """One metric of one campaign against its benchmark.

    ``deviation_pct`` is ``100 * (value / benchmark - 1)``; ``position`` says where the value
    sits in the published range (``below``, ``within``, ``above``, or ``at`` when the range is
    a single figure equal to the value) and ``range_fraction`` how far into the range it is
    (0 = at the lowest published figure, 1 = at the highest; ``None`` outside the range or
    when the range is one figure).  ``better`` says whether the deviation is in the good
    direction (higher CTR/CVR, lower CPC/CPA).
    """

    metric: str
    value: float
    figure: BenchmarkFigure | None
    deviation_pct: float | None
    position: Position | None
    range_fraction: float | None
    better: bool | None
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        fig = self.figure
        return {
            "value": _finite(self.value),
            "benchmark": fig.value if fig else None,
            "deviation_pct": self.deviation_pct,
            "source": fig.source if fig else None,
            "year": fig.year if fig else None,
            "unit": METRICS[self.metric].unit,
            "label": METRICS[self.metric].label,
            "source_domain": fig.source_domain if fig else None,
            "source_tier": fig.source_tier if fig else None,
            "benchmark_industry": fig.industry if fig else None,
            "fallback_all_industries": fig.fallback if fig else None,
            "range": (
                {
                    "min": fig.range_min,
                    "max": fig.range_max,
                    "year_min": fig.year_min,
                    "year_max": fig.year_max,
                    "n_figures": fig.n_figures,
                }
                if fig
                else None
            ),
            "position_in_range": self.position,
            "range_fraction": self.range_fraction,
            "better_than_benchmark": self.better,
            "caveat": (fig.caveat or None) if fig else None,
            "segment": (fig.segment or None) if fig else None,
            "explanation": self.explanation,
        }


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def compare_metric(
    metric: str,
    value: float,
    figure: BenchmarkFigure | None,
    *,
    why_all_industries: str | None = None,
) -> MetricComparison:
    """Compare one value with its benchmark figure and explain it in plain words.

    ``why_all_industries`` says why an all-industry figure is used (default: the
    industry has no figure for this channel and metric).
    """
    short = _cap(_SHORT[metric])
    if not np.isfinite(value):
        why = (
            "no clicks"
            if metric in ("cpc", "cvr")
            else ("no conversions" if metric == "cpa" else "no impressions")
        )
        return MetricComparison(
            metric,
            value,
            figure,
            None,
            None,
            None,
            None,
            f"{short}: not defined for this window ({why}).",
        )
    if figure is None:
        return MetricComparison(
            metric,
            value,
            None,
            None,
            None,
            None,
            None,
            f"{short} {format_metric(metric, value)}: no published benchmark for this channel.",
        )
    deviation = 100.0 * (value / figure.value - 1.0) if figure.value > 0 else None
    lo, hi = figure.range_min, figure.range_max
    fraction: float | None = None
    position: Position
    if value < lo:
        position = "below"
    elif value > hi:
        position = "above"
    elif hi > lo:
        position, fraction = "within", (value - lo) / (hi - lo)
    else:
        position = "at"
    higher_better = METRICS[metric].higher_is_better
    better = None if deviation is None or deviation == 0 else (deviation > 0) == higher_better
    return MetricComparison(
        metric,
        value,
        figure,
        deviation,
        position,
        fraction,
        better,
        _sentence(metric, value, figure, deviation, position, better, why_all_industries),
    )


def _sentence(
    metric: str,
    value: float,
    fig: BenchmarkFigure,
    deviation: float | None,
    position: Position,
    better: bool | None,
    why_all_industries: str | None = None,
) -> str:
    short = _cap(_SHORT[metric])
    if deviation is None:
        how = "cannot be compared with a zero benchmark"
    elif abs(deviation) < 0.5:
        how = "is in line with"
    else:
        word = "above" if deviation > 0 else "below"
        verdict = "better than" if better else "worse than"
        how = f"is {abs(deviation):.0f}% {word} ({verdict})"
    whose = (
        f"the all-industry {fig.channel} figure ("
        + (why_all_industries or f"no {fig.channel} figure is published for this industry")
        + ")"
        if fig.fallback
        else f"the {fig.channel} benchmark for {fig.industry}"
    )
    segment = f", {fig.segment}" if fig.segment else ""
    text = (
        f"{short} {format_metric(metric, value)} {how} {whose}: {format_metric(metric, fig.value)} "
        f"({fig.source_domain}, {fig.year}{segment})."
    )
    if fig.n_figures > 1:
        span = (
            f"{fig.year_min}" if fig.year_min == fig.year_max else f"{fig.year_min}-{fig.year_max}"
        )
        where = {
            "below": "below that range",
            "above": "above that range",
            "at": "at that figure",
            "within": "within that range",
        }[position]
        text += (
            f" The {fig.n_figures} published figures ({span}) range from "
            f"{format_metric(metric, fig.range_min)} to {format_metric(metric, fig.range_max)}; "
            f"this campaign is {where}."
        )
    else:
        text += " It is the only published figure."
    if fig.caveat:
        text += f" Caution: {fig.caveat}."
    if metric == "cpa" and fig.channel == "search":
        text += " (The search reports publish a cost per lead.)"
    return text


@dataclass(frozen=True)
class CampaignComparison:
    """A campaign's four metrics against its industry's benchmarks.

    ``reason`` is ``None`` when the campaign was compared; otherwise it says why it could
    not be (no benchmarks for its channel, an unknown channel or industry), and the metrics
    hold the campaign's own values with no benchmark.  ``notes`` say what was assumed
    (all-industry figures for a campaign with no industry, a window that ends before the
    file's last day).  ``channel`` is the campaign's channel label when it names none of
    :data:`~simkit.market.benchmarks.CHANNELS` (``None`` when there is no label at all).
    """

    campaign_id: str
    industry_requested: str | None
    industry: str
    industry_known: bool
    channel: str | None
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    n_days: int
    metrics: dict[str, MetricComparison]
    explanation: str
    reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def compared(self) -> bool:
        return self.reason is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "compared": self.compared,
            "reason": self.reason,
            "notes": list(self.notes),
            "industry": self.industry,
            "industry_requested": self.industry_requested,
            "industry_known": self.industry_known,
            "channel": self.channel,
            "window": {
                "start": self.window_start.date().isoformat(),
                "end": self.window_end.date().isoformat(),
                "days": self.n_days,
            },
            "metrics": {name: m.to_dict() for name, m in self.metrics.items()},
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class BenchmarkComparison:
    """All compared campaigns; ``to_dict()`` is the ``simkit benchmarks --format json`` output."""

    campaigns: tuple[CampaignComparison, ...]
    benchmark_table: str = ""
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaigns": [c.to_dict() for c in self.campaigns],
            "benchmark_table": self.benchmark_table,
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line per campaign that could not be compared or was compared on assumptions."""
        out = [f"{c.campaign_id}: {c.reason}" for c in self.campaigns if c.reason]
        out += [f"{c.campaign_id}: {n}" for c in self.campaigns for n in c.notes]
        return tuple(out)

    @property
    def explanation(self) -> str:
        """Every campaign's explanation, one paragraph each."""
        return "\n\n".join(f"{c.campaign_id}: {c.explanation}" for c in self.campaigns)


def _meta_value(campaigns: pd.DataFrame | None, campaign_id: str, column: str) -> str | None:
    if campaigns is None or column not in campaigns.columns or "campaign_id" not in campaigns:
        return None
    rows = campaigns.loc[campaigns["campaign_id"].astype(str) == campaign_id, column].dropna()
    return str(rows.iloc[0]) if len(rows) else None


def _channel_for(
    campaign_id: str, platform: str | None, frame: pd.DataFrame, campaigns: pd.DataFrame | None
) -> tuple[str | None, str | None]:
    """``(channel, label)``: the benchmark channel (``None`` when none applies) and the
    label it came from (the metadata's channel, else its platform, else the data's)."""
    if platform is not None:
        channel = channel_of(platform)
        if channel is None:
            raise ParamsError(
                f"platform '{platform}' is not one of {', '.join(CHANNELS)}", field="platform"
            )
        return channel, platform
    labels = [_meta_value(campaigns, campaign_id, "channel")]
    labels.append(_meta_value(campaigns, campaign_id, "platform"))
    if "channel" in frame.columns and frame["channel"].notna().any():
        labels.append(str(frame["channel"].dropna().iloc[0]))
    given = [label for label in labels if label is not None]
    for label in given:
        channel = channel_of(label)
        if channel is not None:
            return channel, label
    return None, (given[0] if given else None)


def _default_hint(field: str, campaign_id: str) -> str:
    option = "--industry" if field == "industry" else "--platform"
    return f"give it with {option} or as '{field}' in the campaign metadata"


def compare_campaigns(
    data: Any,
    *,
    industry: str | None = None,
    platform: str | None = None,
    campaign_ids: Sequence[str] | None = None,
    last_days: int | None = None,
    unknown_industry: Literal["suggest", "all_industries"] = "suggest",
    table: BenchmarkTable | None = None,
    hint: Callable[[str, str], str] | None = None,
) -> BenchmarkComparison:
    """Compare each campaign's CTR, CPC, CVR and CPA with its industry's benchmarks.

    Parameters
    ----------
    data
        A :class:`simkit.data.LoadedData` (its ``data`` and ``campaigns``) or a contract
        DataFrame.
    industry, platform
        Override the campaign metadata (``industry``, ``channel``); ``platform`` is a channel
        (``search``, ``social``, ``display``) or a label that names one (``"facebook"``).
    campaign_ids
        Campaigns to compare (default: all).
    last_days
        Compare each campaign's last ``N`` days of data (``date > its last date - N``);
        default: all.  A campaign that stopped before the file's last day is compared over
        its own last days, with a note.
    unknown_industry
        An industry name the table does not know, with a known name close to it
        (``"suggest"``, the default): given as ``industry=``, raises a :class:`ParamsError`
        with a did-you-mean; found in a campaign's metadata, leaves that campaign
        uncompared with the did-you-mean as its ``reason``.  With no close name, or with
        ``"all_industries"``, the all-industry figures are used, flagged.
    table
        The benchmark table (default: the one simkit ships).
    hint
        ``hint(field, campaign_id)``: how to give a missing ``industry`` or ``platform``,
        for the notes and reasons (default: names ``--industry`` / ``--platform``).

    Returns
    -------
    BenchmarkComparison
        ``to_dict()`` gives ``{"campaigns": [{"campaign_id", "metrics": {"ctr": {"value",
        "benchmark", "deviation_pct", "source", "year", ...}, ...}, "explanation"}]}``.

    Examples
    --------
    >>> loaded = simkit.load("campaigns.csv")  # doctest: +SKIP
    >>> compare_campaigns(loaded, industry="Travel").campaigns[0].explanation  # doctest: +SKIP
    """
    frame = data.data if hasattr(data, "data") else data
    campaigns = getattr(data, "campaigns", None)
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise DataError("no data to compare")
    missing = [
        c
        for c in ("date", "campaign_id", "spend", "impressions", "clicks", "conversions")
        if c not in frame.columns
    ]
    if missing:
        raise DataError(f"data lacks contract column(s): {', '.join(missing)}")
    if last_days is not None and last_days < 1:
        raise ParamsError("must be at least 1", field="last_days")
    file_end = pd.Timestamp(frame["date"].max())
    hint = hint or _default_hint
    table = table or load_benchmarks()
    ids = (
        [str(c) for c in campaign_ids]
        if campaign_ids
        else sorted(frame["campaign_id"].astype(str).unique())
    )
    id_column = all_ids = frame["campaign_id"].astype(str)
    if campaign_ids:  # only the rows asked for: a report asks for one of 1,000 campaigns
        rows = id_column.isin(set(ids)).to_numpy()
        frame, id_column = frame[rows], id_column[rows]
    by_id = {str(k): g for k, g in frame.groupby(id_column)}
    unknown_ids = [c for c in ids if c not in by_id]
    if unknown_ids:
        known = sorted(all_ids.unique())
        raise ParamsError(
            f"no data for campaign '{unknown_ids[0]}'{did_you_mean(unknown_ids[0], known)}",
            field="campaign_id",
        )
    if industry is not None:
        given = table.match_industry(industry)
        if not given.known and unknown_industry == "suggest" and given.suggestion:
            raise ParamsError(_unknown_industry(industry, given.suggestion), field="industry")
    results = []
    for cid in ids:
        rows = by_id[cid]
        notes: list[str] = []
        end = pd.Timestamp(rows["date"].max())
        if last_days is not None:
            rows = rows[rows["date"] > end - pd.Timedelta(days=last_days)]
        if end < file_end:
            notes.append(
                f"its data end on {end.date()}, before the file's last day "
                f"({file_end.date()}), so it is compared over its own last days"
            )
        start = pd.Timestamp(rows["date"].min())
        values = campaign_metrics(rows)
        n_days = int(rows["date"].nunique())
        requested = industry or _meta_value(campaigns, cid, "industry")
        channel, label = _channel_for(cid, platform, rows, campaigns)
        reason = None
        if channel is None:
            reason = (
                f"its channel '{label}' has no published benchmarks (there are figures for "
                f"{', '.join(CHANNELS)} only)"
                if label
                else f"no channel is given; {hint('platform', cid)}"
            )
        match = table.match_industry(requested) if requested is not None else None
        if match is not None and not match.known and unknown_industry == "suggest":
            if match.suggestion and reason is None:
                reason = _unknown_industry(requested or "", match.suggestion)
        if reason is not None:
            compared = {name: _uncompared(name, values[name]) for name in METRICS}
            results.append(
                CampaignComparison(
                    campaign_id=cid,
                    industry_requested=requested,
                    industry=(match.industry if match else None) or ALL_INDUSTRIES,
                    industry_known=bool(match and match.known),
                    channel=label,
                    window_start=start,
                    window_end=end,
                    n_days=n_days,
                    metrics=compared,
                    explanation=f"Not compared with benchmarks: {reason}.",
                    reason=reason,
                    notes=tuple(notes),
                )
            )
            continue
        if match is None:
            notes.append(
                f"no industry is given, so it is compared with the all-industry {channel} "
                f"figures; {hint('industry', cid)}"
            )
        known = bool(match and match.known)
        used = (match.industry if match else None) or ALL_INDUSTRIES
        compared = {
            name: compare_metric(name, values[name], table.figure(used, str(channel), name))
            for name in METRICS
        }
        if not known:
            why = "no industry is given" if match is None else "its industry is not in the table"
            compared = {name: _flag_unknown(c, why) for name, c in compared.items()}
        results.append(
            CampaignComparison(
                campaign_id=cid,
                industry_requested=requested,
                industry=used,
                industry_known=known,
                channel=channel,
                window_start=start,
                window_end=end,
                n_days=n_days,
                metrics=compared,
                explanation=_campaign_explanation(
                    requested, known, used, channel, start, end, compared
                ),
                notes=tuple(notes),
            )
        )
    return BenchmarkComparison(campaigns=tuple(results), benchmark_table=table.path or "")


def _unknown_industry(requested: str, suggestion: str) -> str:
    return (
        f"unknown industry '{requested}'{suggestion}; the known industries are listed by "
        "simkit.market.load_benchmarks().industries"
    )


def _uncompared(metric: str, value: float) -> MetricComparison:
    shown = format_metric(metric, value)
    return MetricComparison(
        metric, value, None, None, None, None, None, f"{_cap(_SHORT[metric])} {shown}."
    )


def _flag_unknown(comparison: MetricComparison, why: str) -> MetricComparison:
    fig = comparison.figure
    if fig is None or fig.fallback:
        return comparison
    return compare_metric(
        comparison.metric, comparison.value, replace(fig, fallback=True), why_all_industries=why
    )


def _campaign_explanation(
    requested: str | None,
    known: bool,
    industry: str,
    channel: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    compared: dict[str, MetricComparison],
) -> str:
    if known:
        head = f"Compared with published {channel} benchmarks for {industry}"
    elif requested is None:
        head = (
            "No industry is given for this campaign, so it is compared with the "
            f"all-industry {channel} figures"
        )
    else:
        head = (
            f"The industry '{requested}' is not in the benchmark table, so this campaign is "
            f"compared with the all-industry {channel} figures"
        )
    lines = [f"{head}, over {start.date()} to {end.date()}."]
    lines += [c.explanation for c in compared.values()]
    worse = [_SHORT[n] for n, c in compared.items() if c.better is False]
    better = [_SHORT[n] for n, c in compared.items() if c.better is True]
    if better or worse:
        summary = []
        if better:
            summary.append("better than the benchmark on " + ", ".join(better))
        if worse:
            summary.append("worse on " + ", ".join(worse))
        lines.append("In short: " + "; ".join(summary) + ".")
    return " ".join(lines)
