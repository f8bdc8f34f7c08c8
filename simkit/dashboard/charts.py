"""The what-if fan chart: a Vega-Lite spec rendered to SVG in the kernel (no CDN, no Altair).

Altair's default renderer loads vega from a CDN, which an offline viewer never gets, so the chart is drawn as SVG by vl-convert inside
the kernel and shown in an ``Output`` widget.  The spec is written as plain Vega-Lite rather
than through Altair because importing Altair costs every dashboard kernel 1-2 s (its
jsonschema format checker builds a grammar at import), which is most of the
first paint on this machine; the chart is small and fixed, so nothing is lost.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["VEGA_LITE_SCHEMA", "chart_svg", "warm_up", "whatif_chart"]

#: The Vega-Lite version the spec is written for (the one Altair 6.3 and vl-convert 1.9 use).
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
_WIDTH, _HEIGHT = 620, 260
_HISTORY, _BASE, _PIVOT = "#4c4c4c", "#1f77b4", "#e8702a"


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    out = frame[columns].copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    values = out.astype(object).where(out.notna(), None)
    return values.to_dict(orient="records")


def whatif_chart(
    history: pd.DataFrame,
    baseline: pd.DataFrame,
    pivot: pd.DataFrame | None,
    *,
    metric: str,
    pivot_label: str | None = None,
) -> dict[str, Any]:
    """History, the baseline p10-p90 band and median, and the pivot's band and median.

    Parameters
    ----------
    history
        Daily actuals with ``date`` and ``metric`` columns.
    baseline, pivot
        Daily bands with ``date, p10, p50, p90``; ``pivot`` may be ``None``.
    metric
        The metric drawn (labels the axis).
    pivot_label
        The pivot in words (legend entry).

    Returns
    -------
    dict
        A Vega-Lite spec (render it with :func:`chart_svg`).
    """
    series = [baseline.assign(series="baseline")]
    if pivot is not None:
        series.append(pivot.assign(series=f"pivot: {pivot_label or 'preview'}"))
    bands = pd.concat(series, ignore_index=True)
    names = list(dict.fromkeys(bands["series"]))
    colour = {
        "field": "series",
        "type": "nominal",
        "scale": {"domain": names, "range": [_BASE, _PIVOT][: len(names)]},
        "legend": {"orient": "bottom", "title": None},
    }
    x = {"field": "date", "type": "temporal", "title": None}
    hist = history[["date", metric]].dropna().rename(columns={metric: "value"})
    band_values = _records(bands, ["date", "p10", "p50", "p90", "series"])
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "width": _WIDTH,
        "height": _HEIGHT,
        "title": f"{metric}: recent actuals, baseline and pivot (median line, 80% band p10-p90)",
        "layer": [
            {
                "data": {"values": band_values},
                "mark": {"type": "area", "opacity": 0.22},
                "encoding": {
                    "x": x,
                    "y": {"field": "p10", "type": "quantitative", "title": f"daily {metric}"},
                    "y2": {"field": "p90"},
                    "color": colour,
                },
            },
            {
                "data": {"values": band_values},
                "mark": {"type": "line"},
                "encoding": {
                    "x": x,
                    "y": {"field": "p50", "type": "quantitative"},
                    "color": colour,
                },
            },
            {
                "data": {"values": _records(hist, ["date", "value"])},
                "mark": {"type": "line", "color": _HISTORY},
                "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}},
            },
        ],
    }


def chart_svg(spec: dict[str, Any]) -> str:
    """The chart as an SVG document (vl-convert, no network)."""
    import vl_convert as vlc  # heavy (a bundled JS engine): only a rendered chart needs it

    return vlc.vegalite_to_svg(spec)


def warm_up() -> None:
    """Start vl-convert's JavaScript engine (its first chart costs about 0.5 s extra).

    Called in a background thread while the drivers are fitted, so the first paint does
    not pay it.
    """
    chart_svg(
        {
            "$schema": VEGA_LITE_SCHEMA,
            "data": {"values": [{"x": 0}]},
            "mark": "point",
            "encoding": {"x": {"field": "x", "type": "quantitative"}},
        }
    )
