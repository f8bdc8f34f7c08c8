"""Altair charts for reports, drawn with no network (see ``use_offline_renderer``)."""

from __future__ import annotations

from simkit.viz.charts import fan_chart, history_chart, use_offline_renderer

__all__ = ["fan_chart", "history_chart", "use_offline_renderer"]
