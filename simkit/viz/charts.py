"""Report charts in Altair.

Altair's default renderer loads vega from a CDN, so a report opened offline shows a blank
chart.  :func:`use_offline_renderer` switches to the ``svg`` renderer, which draws the chart
in the kernel with vl-convert (no JavaScript in the page).  Altair is imported lazily: it costs about a second.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["fan_chart", "history_chart", "use_offline_renderer"]

_WIDTH, _HEIGHT = 640, 240
_HISTORY_COLOR, _PLAN_COLOR, _FORECAST_COLOR = "#4c4c4c", "#9a6fb0", "#1f77b4"


def use_offline_renderer(kind: str = "svg") -> None:
    """Render Altair charts as static SVG (or ``png``) so reports need no CDN."""
    import altair as alt

    alt.renderers.enable(kind)
    alt.data_transformers.disable_max_rows()


def history_chart(
    daily: pd.DataFrame, metrics: tuple[str, ...] = ("spend", "conversions", "cpa", "roas")
) -> Any:
    """Small multiples of daily history, one panel per metric, with a 7-day mean line."""
    import altair as alt

    from simkit.report.format import label

    frame = daily[["date", *metrics]].melt("date", var_name="metric", value_name="value")
    frame = frame.sort_values(["metric", "date"])
    frame["metric"] = frame["metric"].map(label)
    frame["7-day mean"] = frame.groupby("metric")["value"].transform(
        lambda s: s.rolling(7, min_periods=1).mean()
    )
    base = alt.Chart(frame).encode(x=alt.X("date:T", title=None))
    points = base.mark_line(opacity=0.35, color=_HISTORY_COLOR).encode(
        y=alt.Y("value:Q", title=None)
    )
    smooth = base.mark_line(color=_HISTORY_COLOR).encode(y="7-day mean:Q")
    return (
        (points + smooth)
        .properties(width=_WIDTH // 2 - 20, height=120)
        .facet(facet=alt.Facet("metric:N", sort=[label(m) for m in metrics], title=None), columns=2)
        .resolve_scale(y="independent")
    )


def fan_chart(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    metric: str,
    plan: pd.Series | None = None,
    history_days: int = 60,
) -> Any:
    """A forecast fan: the p10-p90 band, the p50 line, the recent history and the plan.

    Parameters
    ----------
    history
        Daily history with ``date`` and ``metric`` columns.
    forecast
        Daily quantiles with ``date``, ``p10``, ``p50``, ``p90``.
    metric
        The metric shown (its name labels the axis).
    plan
        Planned daily spend over the horizon, drawn on a second panel below.
    """
    import altair as alt

    from simkit.report.format import label

    hist = history[["date", metric]].tail(history_days).rename(columns={metric: "value"})
    x = alt.X("date:T", title=None)
    band = (
        alt.Chart(forecast)
        .mark_area(opacity=0.25, color=_FORECAST_COLOR)
        .encode(x=x, y=alt.Y("p10:Q", title=label(metric)), y2="p90:Q")
    )
    median = alt.Chart(forecast).mark_line(color=_FORECAST_COLOR).encode(x=x, y="p50:Q")
    past = alt.Chart(hist).mark_line(color=_HISTORY_COLOR).encode(x=x, y="value:Q")
    top = (band + median + past).properties(
        width=_WIDTH,
        height=_HEIGHT,
        title=f"{label(metric)}: history, forecast median (line) and 80% band (p10–p90)",
    )
    if plan is None:
        return top
    spend = pd.concat(
        [
            history[["date", "spend"]].tail(history_days).assign(kind="actual spend"),
            pd.DataFrame({"date": plan.index, "spend": plan.to_numpy(), "kind": "plan"}),
        ]
    )
    bottom = (
        alt.Chart(spend)
        .mark_line()
        .encode(
            x=x,
            y=alt.Y("spend:Q", title="daily spend"),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(range=[_HISTORY_COLOR, _PLAN_COLOR]),
                legend=alt.Legend(orient="bottom", title=None),
            ),
        )
        .properties(width=_WIDTH, height=90)
    )
    return alt.vconcat(top, bottom)
