"""Altair charts for reports, drawn with no network (see ``use_offline_renderer``)."""

from __future__ import annotations

from simkit.viz.charts import fan_chart, history_chart, use_offline_renderer
from simkit.viz.widgets import WhatIfExplorer, what_if_explorer

__all__ = [
    "WhatIfExplorer",
    "fan_chart",
    "history_chart",
    "use_offline_renderer",
    "what_if_explorer",
]
