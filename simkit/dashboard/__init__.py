"""The Voila what-if dashboard: a view-model (:mod:`.model`), its widgets (:mod:`.app`),
the campaigns and runs views and the new-run form (:mod:`.runs`), and the Voila settings
(:mod:`.server`).

>>> from simkit.dashboard import parse_pivot
>>> parse_pivot({"budget_change_pct": 500}).budget_change_pct
200.0
"""

from __future__ import annotations

from simkit.dashboard.app import build_dashboard, open_dashboard
from simkit.dashboard.model import (
    LEVERS,
    MAX_HORIZON_DAYS,
    MAX_PATHS,
    Baseline,
    CampaignOption,
    DashboardSettings,
    Delta,
    PivotInput,
    Preview,
    WhatIfModel,
    parse_pivot,
)
from simkit.dashboard.server import VoilaSettings, voila_command

__all__ = [
    "LEVERS",
    "MAX_HORIZON_DAYS",
    "MAX_PATHS",
    "Baseline",
    "CampaignOption",
    "DashboardSettings",
    "Delta",
    "PivotInput",
    "Preview",
    "VoilaSettings",
    "WhatIfModel",
    "build_dashboard",
    "open_dashboard",
    "parse_pivot",
    "voila_command",
]
