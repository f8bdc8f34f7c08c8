"""How simkit's results show themselves in Jupyter: a compact table, a small chart, a frame.

Every result class (the forecast, the backtest, a simulation, a what-if, a risk report,
a pivot set) has three thin methods that call this module:

* ``_repr_html_()``: what JupyterLab shows when the object is the last line of a cell, a
  title, a compact table and, where a picture says more, a small chart drawn as inline SVG
  (no JavaScript, no CDN: the exported HTML shows it offline too);
* ``to_frame()``: a tidy :class:`pandas.DataFrame` (one row per observation);
* ``plot()``: an Altair chart.  ``plot`` switches Altair from its default renderer, which
  loads vega from a CDN and so shows a blank chart offline, to the ``svg`` renderer
  (vl-convert, in the kernel), unless another renderer was chosen on purpose.

Each class has one *view* here (``simulation_view``, ``backtest_view``, ...): a title, a
subtitle, tables, charts drawn only when HTML is asked for, and notes.  :func:`to_html` renders
it for JupyterLab, :func:`to_text` as the short plain-text form IPython prints
(``_repr_pretty_``) instead of the whole dataclass.

The result classes live in layers below :mod:`simkit.viz`, so the display code lives here,
in a low layer that knows nothing of them: it reads their attributes by name.  Altair is
imported inside the functions that draw (about a second with jsonschema): an object that
is never displayed never pays for it.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from simkit.labels import label

__all__ = [
    "CHART_HEIGHT",
    "CHART_WIDTH",
    "chart_html",
    "ensure_offline_renderer",
    "fan_chart",
    "format_number",
    "frame_html",
    "render",
]

CHART_WIDTH, CHART_HEIGHT = 520, 200
_BLUE, _ORANGE, _GREY, _RED = "#1f77b4", "#e8710a", "#6b6b6b", "#c0392b"
_CSS = (
    "<style>.simkit-repr{font-family:system-ui,sans-serif;font-size:13px;max-width:980px}"
    ".simkit-repr h4{margin:4px 0 2px 0;font-size:14px}.simkit-repr .sk-sub{color:#555;"
    "margin:0 0 6px 0}.simkit-repr table{border-collapse:collapse;margin:4px 0}"
    ".simkit-repr th,.simkit-repr td{padding:2px 8px;border-bottom:1px solid #ddd;"
    "text-align:right}.simkit-repr th:first-child,.simkit-repr td:first-child{text-align:left}"
    ".simkit-repr .sk-note{color:#8a5a00;margin:2px 0}.simkit-repr .sk-row{display:flex;"
    "flex-wrap:wrap;gap:16px;align-items:flex-start}</style>"
)


# -- numbers and tables ---------------------------------------------------------------------
def format_number(value: Any) -> str:
    """A number for a compact table: thousands separators, three significant digits for
    small values, an em dash for a missing or non-finite one."""
    if value is None:
        return "—"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        x = float(value)
        if not math.isfinite(x):
            return "—" if math.isnan(x) else ("∞" if x > 0 else "−∞")
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) >= 100:
            return f"{x:.1f}"
        return f"{x:.3g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def frame_html(frame: pd.DataFrame, *, max_rows: int = 12, percent: Iterable[str] = ()) -> str:
    """A compact HTML table of ``frame`` (its index is dropped): numbers formatted, columns
    named in ``percent`` shown as percentages, at most ``max_rows`` rows (the rest counted)."""
    pct = set(percent)
    shown = frame.head(max_rows)
    head = "".join(f"<th>{html.escape(label(str(c)))}</th>" for c in shown.columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = []
        for column, value in zip(shown.columns, record, strict=True):
            if column in pct and isinstance(value, int | float | np.number) and value == value:
                text = _percent(float(value))
            else:
                text = format_number(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = len(frame) - len(shown)
    tail = (
        f"<p class='sk-sub'>… and {more} more rows (<code>.to_frame()</code>)</p>" if more else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{tail}"


def _percent(p: float) -> str:
    if 0 < p < 0.01:
        return "<1%"
    if 0.99 < p < 1:
        return ">99%"
    return f"{100 * p:.0f}%"


@dataclass(frozen=True)
class Table:
    """A frame to show, with the columns shown as percentages."""

    frame: pd.DataFrame
    percent: tuple[str, ...] = ()

    def html(self) -> str:
        return frame_html(self.frame, percent=self.percent)

    def text(self, max_rows: int = 12) -> str:
        shown = self.frame.head(max_rows)
        cells = {
            label(str(c)): [
                _percent(float(v))
                if c in self.percent and isinstance(v, int | float | np.number) and v == v
                else format_number(v)
                for v in shown[c]
            ]
            for c in shown.columns
        }
        text = pd.DataFrame(cells).to_string(index=False)
        more = len(self.frame) - len(shown)
        return text + (f"\n… and {more} more rows (.to_frame())" if more else "")


@dataclass(frozen=True)
class View:
    """What a result shows: a title, a subtitle, tables, charts (drawn only for HTML) and
    notes.  :meth:`html` is the ``_repr_html_``, :meth:`text` the short text form."""

    title: str
    subtitle: str = ""
    tables: Sequence[Table] = ()
    charts: Sequence[Callable[[], Any]] = ()
    notes: Sequence[str] = ()

    def html(self) -> str:
        return render(
            self.title,
            subtitle=self.subtitle,
            tables=[t.html() for t in self.tables],
            charts=[draw() for draw in self.charts],
            notes=self.notes,
        )

    def text(self) -> str:
        parts = [self.title, *([self.subtitle] if self.subtitle else [])]
        parts += [t.text() for t in self.tables]
        parts += [f"warning: {n}" for n in self.notes]
        return "\n\n".join(parts)


def render(
    title: str,
    *,
    subtitle: str = "",
    tables: Sequence[str] = (),
    charts: Sequence[Any] = (),
    notes: Sequence[str] = (),
) -> str:
    """The HTML of one result: a title, its subtitle, tables and charts side by side, then
    the notes (warnings a reader should see)."""
    parts = [_CSS, "<div class='simkit-repr'>", f"<h4>{html.escape(title)}</h4>"]
    if subtitle:
        parts.append(f"<p class='sk-sub'>{html.escape(subtitle)}</p>")
    blocks = [*tables, *(chart_html(c) for c in charts if c is not None)]
    parts.append("<div class='sk-row'>" + "".join(f"<div>{b}</div>" for b in blocks) + "</div>")
    parts.extend(f"<p class='sk-note'>⚠ {html.escape(n)}</p>" for n in notes)
    parts.append("</div>")
    return "".join(parts)


# -- charts ------------------------------------------------------------------------------------
def chart_html(chart: Any) -> str:
    """An Altair chart as inline SVG (drawn in the kernel by vl-convert: no JavaScript and
    no network, so it shows in JupyterLab, nbconvert HTML and the docs alike)."""
    buffer = io.StringIO()
    chart.save(buffer, format="svg")
    return buffer.getvalue()


def ensure_offline_renderer() -> None:
    """Switch Altair to the static ``svg`` renderer when it is still on its default one
    (which loads vega from a CDN: a blank chart offline); a renderer chosen on purpose
    (``alt.renderers.enable(...)``) is left alone."""
    import altair as alt  # heavy (~1 s with jsonschema): only a drawn chart needs it

    if alt.renderers.active == "default":
        alt.renderers.enable("svg")


def _alt() -> Any:
    import altair as alt  # heavy (~1 s with jsonschema): only a drawn chart needs it

    return alt


def fan_chart(
    bands: pd.DataFrame,
    *,
    title: str,
    y_title: str,
    color_by: str | None = None,
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
) -> Any:
    """A fan: the p10-p90 band, the p25-p75 band and the p50 line over ``date``.

    ``bands`` has ``date``, ``p10``, ``p25`` (optional), ``p50``, ``p90`` and, with
    ``color_by``, a column naming the series (baseline / pivot).
    """
    alt = _alt()
    x = alt.X("date:T", title=None)
    color: Any = alt.value(_BLUE)
    if color_by is not None:
        color = alt.Color(
            f"{color_by}:N",
            scale=alt.Scale(range=[_BLUE, _ORANGE]),
            legend=alt.Legend(orient="bottom", title=None),
        )
    base = alt.Chart(bands)
    layers = [
        base.mark_area(opacity=0.18).encode(
            x=x, y=alt.Y("p10:Q", title=y_title), y2="p90:Q", color=color
        )
    ]
    if "p25" in bands and "p75" in bands:
        layers.append(base.mark_area(opacity=0.28).encode(x=x, y="p25:Q", y2="p75:Q", color=color))
    layers.append(base.mark_line().encode(x=x, y="p50:Q", color=color))
    return alt.layer(*layers).properties(width=width, height=height, title=title)


def _bar(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    x_title: str,
    color: str = _BLUE,
    rule_at: float | None = None,
    width: int = 240,
) -> Any:
    alt = _alt()
    bars = (
        alt.Chart(frame)
        .mark_bar(color=color)
        .encode(x=alt.X(f"{x}:Q", title=x_title), y=alt.Y(f"{y}:N", title=None, sort=None))
    )
    if rule_at is not None:
        rule = alt.Chart(pd.DataFrame({x: [rule_at]})).mark_rule(color=_GREY, strokeDash=[4, 3])
        bars = bars + rule.encode(x=f"{x}:Q")
    return bars.properties(width=width, height=max(18 * len(frame), 40), title=title)


# -- a validated file --------------------------------------------------------------------------
def validation_frame(report: Any) -> pd.DataFrame:
    """One row per campaign: its days, span and data-quality score with its parts."""
    columns = ["campaign_id", "days", "first_date", "last_date", "quality_score",
               "completeness", "consistency", "history", "recency", "missing_days", "reasons"]  # fmt: skip
    rows = [
        {**{c: getattr(q, c) for c in columns[:-1]}, "reasons": "; ".join(q.reasons)}
        for q in report.campaigns
    ]
    return pd.DataFrame(rows, columns=columns)


def validation_chart(report: Any) -> Any:
    frame = validation_frame(report)[["campaign_id", "quality_score"]]
    return _bar(frame, x="quality_score", y="campaign_id", title="Data quality (0-100)",
                x_title="quality score", width=260)  # fmt: skip


def validation_view(report: Any) -> View:
    frame = validation_frame(report)
    shown = frame[["campaign_id", "days", "first_date", "last_date", "quality_score"]]
    notes = [str(e) for e in report.errors[:5]] + [str(w) for w in report.warnings[:5]]
    more = len(report.errors) + len(report.warnings) - len(notes)
    if more > 0:
        notes.append(f"… and {more} more messages (.errors, .warnings)")
    return View(
        f"{'Valid' if report.ok else 'Invalid'} data: {report.n_rows:,} rows, "
        f"{len(frame)} campaigns ({report.source} format)",
        subtitle=f"{len(report.errors)} errors, {len(report.warnings)} warnings, "
        f"{len(report.repairs)} repairs recorded",
        tables=[Table(shown)],
        charts=[partial(validation_chart, report)] if len(frame) else [],
        notes=notes,
    )


# -- a simulation ------------------------------------------------------------------------------
def simulation_frame(result: Any) -> pd.DataFrame:
    """Tidy daily quantiles: one row per day and metric."""
    frame = result.daily.copy()
    frame.insert(0, "campaign_id", result.campaign_id)
    return frame.reset_index(drop=True)


def _metric_bands(result: Any, metric: str) -> pd.DataFrame:
    daily = result.daily
    if metric not in set(daily["metric"]):
        known = ", ".join(sorted(set(daily["metric"])))
        raise ValueError(f"no daily quantiles of {metric!r} in this result; known: {known}")
    return daily[daily["metric"] == metric].reset_index(drop=True)


def simulation_chart(result: Any, metric: str | None = None) -> Any:
    metric = metric or result.outcome
    return fan_chart(
        _metric_bands(result, metric),
        title=f"{label(metric)} per day, {result.n_paths:,} paths: median, 50% and 80% bands",
        y_title=label(metric),
    )


def simulation_view(result: Any) -> View:
    rows = []
    for metric in ("spend", "conversions", "revenue", "cpa", "roas"):
        s = result.totals.get(metric)
        if s is not None:
            rows.append({"metric": metric, "p10": s["p10"], "p50": s["p50"], "p90": s["p90"]})
    scen = pd.DataFrame(
        [
            {
                "scenario": label(s.name),
                "probability": s.probability,
                result.outcome: s.mean_totals.get(result.outcome, math.nan),
                "cpa": s.mean_totals.get("cpa", math.nan),
            }
            for s in result.scenarios
        ]
    )
    probs = pd.DataFrame(
        [{"probability of": label(k), "p": v} for k, v in result.probabilities.items()]
    )
    start, end = result.dates[0].date(), result.dates[-1].date()
    tables = [
        Table(pd.DataFrame(rows).assign(metric=lambda f: f["metric"].map(label))),
        Table(scen, ("probability",)),
        Table(probs, ("p",)),
    ]
    return View(
        f"Simulation of {result.campaign_id}: {result.horizon_days} days ({start} to {end})",
        subtitle=f"{result.n_paths:,} Monte Carlo paths, seed {result.seed}; horizon totals "
        "with their 80% range, the scenarios that partition the paths, goal probabilities",
        tables=tables,
        charts=[partial(simulation_chart, result)],
        notes=[str(n) for n in result.extra.get("notes", ())],
    )


# -- a what-if ---------------------------------------------------------------------------------
def what_if_frame(result: Any) -> pd.DataFrame:
    """One row per metric: baseline and pivot medians, the paired delta's quantiles and
    the probability that the pivot is higher on the same path."""
    rows = []
    for metric, d in result.delta.items():
        rows.append(
            {
                "metric": metric,
                "baseline_p50": result.baseline.totals[metric]["p50"],
                "pivot_p50": result.pivot.totals[metric]["p50"],
                "delta_mean": d["mean"],
                "delta_p10": d["p10"],
                "delta_p50": d["p50"],
                "delta_p90": d["p90"],
                "p_higher": result.p_higher.get(metric, math.nan),
                "p_lower": result.p_lower.get(metric, math.nan),
            }
        )
    return pd.DataFrame(rows)


def what_if_chart(result: Any, metric: str | None = None) -> Any:
    metric = metric or result.outcome
    bands = pd.concat(
        [
            _metric_bands(result.baseline, metric).assign(run="baseline"),
            _metric_bands(result.pivot, metric).assign(run="pivot"),
        ],
        ignore_index=True,
    )
    return fan_chart(
        bands,
        title=f"{label(metric)} per day: baseline and pivot (same random numbers)",
        y_title=label(metric),
        color_by="run",
    )


def what_if_view(result: Any) -> View:
    frame = what_if_frame(result)
    keep = frame[frame["metric"].isin(["spend", "conversions", "revenue", "cpa", "roas"])]
    keep = keep[["metric", "baseline_p50", "pivot_p50", "delta_p10", "delta_p50", "delta_p90"]]
    keep = keep.assign(metric=keep["metric"].map(label))
    improves = result.probabilities.get("p_outcome_improves", math.nan)
    return View(
        f"What-if on {result.baseline.campaign_id}: pivot against baseline",
        subtitle=f"P({label(result.outcome).lower()} improves on the same path) = "
        f"{_percent(improves)}; deltas are per path, pivot minus baseline",
        tables=[Table(keep)],
        charts=[partial(what_if_chart, result)],
    )


# -- a forecast and its backtest ---------------------------------------------------------------
def backtest_frame(result: Any) -> pd.DataFrame:
    """One row per member and one for the ensemble, with the backtest scores."""
    rows = [{"member": name, **score.to_dict()} for name, score in result.members.items()]
    rows.append({"member": "ensemble", **result.ensemble.to_dict()})
    frame = pd.DataFrame(rows)
    frame.insert(0, "campaign_id", result.campaign_id)
    frame.insert(2, "metric", result.metric)
    return frame.astype({c: float for c in frame.columns if c.startswith(("mase", "cover"))})


def backtest_chart(result: Any) -> Any:
    alt = _alt()
    frame = backtest_frame(result)
    members = frame[frame["member"] != "ensemble"]
    weights = _bar(
        members, x="weight", y="member", title="Ensemble weight", x_title="weight", width=200
    )
    mase = _bar(
        frame,
        x="mase",
        y="member",
        title="MASE (1 = seasonal naive)",
        x_title="MASE",
        color=_GREY,
        rule_at=1.0,
        width=240,
    )
    return alt.hconcat(weights, mase)


def backtest_view(result: Any) -> View:
    frame = backtest_frame(result)
    cols = ["member", "weight", "mase", "crps", "coverage_80", "n_points"]
    return View(
        f"Backtest of {result.campaign_id}: {len(result.cutoffs)} cutoffs, "
        f"{result.horizon}-day horizon",
        subtitle=f"scores on {label(result.metric).lower()}, each cutoff scored with weights "
        "and intervals learnt on the others",
        tables=[
            Table(
                frame[cols],
                (
                    "weight",
                    "coverage_80",
                ),
            )
        ],
        charts=[partial(backtest_chart, result)],
        notes=list(result.warnings),
    )


def _funnel_points(drivers: Any, center: np.ndarray) -> dict[str, np.ndarray]:
    # the drivers' back-transforms (simkit.forecast.base), applied to one set of centres
    cpm, ctr = np.exp(center[:, 0]), 1 / (1 + np.exp(-center[:, 1]))
    cvr, rpc = 1 / (1 + np.exp(-center[:, 2])), np.exp(center[:, 3])
    impressions = 1000 * drivers.spend_plan / cpm
    conversions = impressions * ctr * cvr
    return {"impressions": impressions, "clicks": impressions * ctr, "conversions": conversions,
            "revenue": conversions * rpc}  # fmt: skip


def forecast_frame(forecast: Any) -> pd.DataFrame:
    """One row per horizon day and source (each member and the ensemble): the point
    forecast of spend, impressions, clicks, conversions and revenue."""
    d = forecast.drivers
    sources = {**forecast.member_forecasts, "ensemble": d.center}
    frames = []
    for source, center in sources.items():
        points = _funnel_points(d, np.asarray(center, dtype=float))
        frames.append(pd.DataFrame({"date": d.dates, "source": source, "spend": d.spend_plan,
                                    **points}))  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "campaign_id", forecast.campaign_id)
    return frame


def _member_weights(forecast: Any) -> dict[str, float]:
    """Each member's weight on the backtest metric (the mean of its weights over the drivers
    that metric depends on, as in the backtest's scores)."""
    scores = forecast.backtest.members
    return {
        m: float(scores[m].weight) if m in scores else float(np.mean(list(w.values())))
        for m, w in forecast.weights.items()
    }


def forecast_chart(forecast: Any, metric: str = "conversions") -> Any:
    alt = _alt()
    frame = forecast_frame(forecast)
    weight = _member_weights(forecast)
    frame["series"] = [
        "ensemble" if s == "ensemble" else f"{s} (weight {weight.get(s, 0.0):.2f})"
        for s in frame["source"]
    ]
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y(f"{metric}:Q", title=label(metric)),
            color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None)),
            strokeWidth=alt.condition(
                alt.datum.source == "ensemble", alt.value(3.0), alt.value(1.2)
            ),
        )
        .properties(
            width=CHART_WIDTH,
            height=CHART_HEIGHT,
            title=f"{label(metric)} per day: each member's point forecast and the ensemble",
        )
    )


def forecast_view(forecast: Any) -> View:
    scores = forecast.backtest.members
    weights = pd.DataFrame(
        [
            {"member": m, "weight": w, "mase": scores[m].mase if m in scores else math.nan}
            for m, w in _member_weights(forecast).items()
        ]
    )
    frame = forecast_frame(forecast)
    ens = frame[frame["source"] == "ensemble"]
    totals = pd.DataFrame(
        [{"metric": label(m), "horizon total": float(ens[m].sum())} for m in
         ("spend", "impressions", "clicks", "conversions", "revenue")]
    )  # fmt: skip
    d = forecast.drivers
    notes = list(forecast.warnings)
    if forecast.fallback is not None:
        notes.append(forecast.fallback.message)
    return View(
        f"Forecast of {forecast.campaign_id}: {d.horizon_days} days from {d.dates[0].date()}",
        subtitle=f"{forecast.history_days} days of history; members weighted by their "
        "backtest MASE on conversions; point forecasts (intervals come from the simulation)",
        tables=[Table(weights, ("weight",)), Table(totals)],
        charts=[partial(forecast_chart, forecast)],
        notes=notes,
    )


# -- calibration of a backtest -----------------------------------------------------------------
def calibration_frame(check: Any) -> pd.DataFrame:
    """One row per horizon step: the empirical coverage of the central intervals."""
    return check.by_horizon.copy()


def calibration_chart(check: Any) -> Any:
    alt = _alt()
    long = check.by_horizon.melt(
        id_vars=["step"],
        value_vars=[c for c in check.by_horizon.columns if c.startswith("coverage_")],
        var_name="interval",
        value_name="coverage",
    )
    long["interval"] = long["interval"].str.replace("coverage_", "") + "% interval"
    nominal = pd.DataFrame(
        {
            "interval": [f"{int(100 * lv)}% interval" for lv in check.levels],
            "coverage": check.levels,
        }
    )
    color = alt.Color("interval:N", legend=alt.Legend(orient="bottom", title=None))
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("step:Q", title="days ahead"),
            y=alt.Y("coverage:Q", title="share of actuals inside", scale=alt.Scale(domain=[0, 1])),
            color=color,
        )
    )
    rules = alt.Chart(nominal).mark_rule(strokeDash=[4, 3]).encode(y="coverage:Q", color=color)
    by_step = (lines + rules).properties(
        width=300, height=CHART_HEIGHT, title="Coverage by horizon (dashed: nominal)"
    )
    counts, edges = np.histogram(check.pit, bins=10, range=(0.0, 1.0))
    pit = pd.DataFrame(
        {"low": edges[:-1], "high": edges[1:], "share": counts / max(len(check.pit), 1)}
    )
    bars = (
        alt.Chart(pit)
        .mark_bar(color=_BLUE, opacity=0.8)
        .encode(
            x=alt.X("low:Q", title="PIT", bin="binned", scale=alt.Scale(domain=[0, 1])),
            x2="high:Q",
            y=alt.Y("share:Q", title="share of actuals"),
        )
    )
    flat = alt.Chart(pd.DataFrame({"share": [0.1]})).mark_rule(strokeDash=[4, 3], color=_GREY)
    hist = (bars + flat.encode(y="share:Q")).properties(
        width=240, height=CHART_HEIGHT, title="PIT histogram (flat = calibrated)"
    )
    return alt.hconcat(by_step, hist)


def calibration_view(check: Any) -> View:
    summary = pd.DataFrame(
        [{"interval": f"{int(100 * lv)}%", "coverage": check.coverage[lv]} for lv in check.levels]
    )
    return View(
        f"Calibration of the {check.source} on {check.campaign_id}: {check.n_cutoffs} cutoffs",
        subtitle=f"{label(check.metric)}; each cutoff's interval learnt on the other cutoffs; "
        f"{len(check.pit)} actuals, mean PIT {np.mean(check.pit):.2f} (0.5 = unbiased)",
        tables=[Table(summary, ("coverage",))],
        charts=[partial(calibration_chart, check)],
    )


# -- a risk report -----------------------------------------------------------------------------
def risk_frame(report: Any) -> pd.DataFrame:
    """One row per alert, most probable first."""
    columns = ["as_of", "campaign_id", "type", "probability", "severity", "onset", "message",
               "suggested_pivots"]  # fmt: skip
    rows = [
        {
            "as_of": a.as_of,
            "campaign_id": a.campaign_id,
            "type": a.type,
            "probability": float(a.probability),
            "severity": a.severity,
            "onset": a.onset,
            "message": a.message,
            "suggested_pivots": ", ".join(a.suggested_pivots),
        }
        for a in report.alerts
    ]
    return pd.DataFrame(rows, columns=columns)


def risk_chart(report: Any) -> Any:
    alt = _alt()
    frame = risk_frame(report)[["campaign_id", "type", "probability", "severity"]]
    frame["alert"] = frame["campaign_id"].astype(str) + " · " + frame["type"].map(label)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("probability:Q", title="probability", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("alert:N", title=None, sort=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color(
                "severity:N",
                scale=alt.Scale(domain=["low", "medium", "high"], range=["#9ecae1", _ORANGE, _RED]),
                legend=alt.Legend(orient="bottom"),
            ),
        )
        .properties(width=300, height=max(18 * len(frame), 40), title="Alerts by probability")
    )


def risk_view(report: Any) -> View:
    frame = risk_frame(report)
    if frame.empty:
        return View(
            f"Risks as of {report.as_of}",
            subtitle="no detector reached its reporting threshold on any campaign",
        )
    shown = frame[["campaign_id", "type", "probability", "severity", "onset"]].assign(
        type=lambda f: f["type"].map(label)
    )
    return View(
        f"Risks as of {report.as_of}: {len(frame)} alerts on "
        f"{frame['campaign_id'].nunique()} campaigns",
        subtitle="calibrated probabilities that a change of this kind is under way; "
        "messages and evidence in .to_frame() and .alerts",
        tables=[Table(shown, ("probability",))],
        charts=[partial(risk_chart, report)],
    )


# -- a pivot set -------------------------------------------------------------------------------
def pivot_frame(result: Any) -> pd.DataFrame:
    """One row per recommendation, best first, with the change in the objective."""
    rows = []
    for rank, rec in enumerate(result.recommendations, start=1):
        impact = rec.expected_impact.get(result.objective, {})
        rows.append(
            {
                "rank": rank,
                "type": rec.type,
                "campaign_ids": ", ".join(rec.campaign_ids),
                "action": rec.action,
                "objective": result.objective,
                "delta_p10": impact.get("p10", math.nan),
                "delta_p50": impact.get("p50", math.nan),
                "delta_p90": impact.get("p90", math.nan),
                "confidence": float(rec.confidence),
                "downside": float(rec.downside),
                "score": float(rec.score),
            }
        )
    columns = ["rank", "type", "campaign_ids", "action", "objective", "delta_p10", "delta_p50",
               "delta_p90", "confidence", "downside", "score"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def pivot_chart(result: Any) -> Any:
    alt = _alt()
    frame = pivot_frame(result)
    frame["pivot"] = (
        frame["rank"].astype(str)
        + ". "
        + frame["type"].map(label)
        + " · "
        + frame["campaign_ids"].str.slice(0, 24)
    )
    y = alt.Y("pivot:N", title=None, sort=None, axis=alt.Axis(labelLimit=260))
    x_title = f"change in {label(result.objective).lower()} (p10-p90, dot p50)"
    ranges = (
        alt.Chart(frame)
        .mark_rule(color=_BLUE, strokeWidth=3)
        .encode(x=alt.X("delta_p10:Q", title=x_title), x2="delta_p90:Q", y=y)
    )
    points = (
        alt.Chart(frame).mark_point(filled=True, color=_BLUE, size=50).encode(x="delta_p50:Q", y=y)
    )
    zero = alt.Chart(pd.DataFrame({"delta_p50": [0.0]})).mark_rule(color=_GREY, strokeDash=[4, 3])
    return (ranges + points + zero.encode(x="delta_p50:Q")).properties(
        width=300, height=max(22 * len(frame), 40), title="Pivots ranked by simulated impact"
    )


def pivot_view(result: Any) -> View:
    frame = pivot_frame(result)
    a = result.allocation
    alloc = pd.DataFrame(
        [
            {"campaign": k, "today": float(a.status_quo.get(k, math.nan)), "optimised": float(v)}
            for k, v in a.allocation.items()
        ]
    )
    tables = [Table(alloc)]
    charts: list[Any] = []
    if not frame.empty:
        shown = frame[["rank", "type", "campaign_ids", "delta_p50", "confidence"]].assign(
            type=lambda f: f["type"].map(label)
        )
        tables.insert(0, Table(shown, ("confidence",)))
        charts.append(partial(pivot_chart, result))
    return View(
        f"Pivots as of {pd.Timestamp(result.as_of).date()}: {len(frame)} recommendations",
        subtitle=f"objective {label(result.objective).lower()} over {result.horizon_days} days; "
        f"budget allocation of {format_number(float(a.total_budget))} a day",
        tables=tables,
        charts=charts,
        notes=list(result.notes),
    )


def to_html(result: Any) -> str:
    """The ``_repr_html_`` of any displayable result."""
    return _VIEWS[type(result).__name__](result).html()


def to_text(result: Any) -> str:
    """A short text form of any displayable result (IPython's plain-text display, a terminal)."""
    return _VIEWS[type(result).__name__](result).text()


def pretty(result: Any, printer: Any, cycle: bool) -> None:
    """``_repr_pretty_``: IPython prints :func:`text` instead of the whole dataclass."""
    printer.text(f"{type(result).__name__}(...)" if cycle else to_text(result))


#: The view of each displayable result class, by class name (the classes live above).
_VIEWS: dict[str, Callable[[Any], View]] = {
    "ValidationReport": validation_view,
    "CampaignForecast": forecast_view,
    "BacktestResult": backtest_view,
    "CalibrationCheck": calibration_view,
    "SimulationResult": simulation_view,
    "WhatIfResult": what_if_view,
    "RiskReport": risk_view,
    "PivotResult": pivot_view,
}
