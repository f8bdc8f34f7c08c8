"""The Voila what-if dashboard: a view-model (:mod:`.model`), its widgets (:mod:`.app`),
the campaigns and runs views and the new-run form (:mod:`.runs`), and the Voila settings
(:mod:`.server`).

>>> from simkit.dashboard import parse_pivot
>>> parse_pivot({"budget_change_pct": 500}).budget_change_pct
200.0
"""

from __future__ import annotations

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


def build_dashboard(model, **kwargs):  # type: ignore[no-untyped-def]
    """The dashboard's root widget (imports ipywidgets on first use)."""
    from simkit.dashboard.app import build_dashboard as build

    return build(model, **kwargs)


def open_dashboard(**parameters):  # type: ignore[no-untyped-def]
    """Everything the notebook does, in one call: validate the parameters, load, build."""
    from simkit.dashboard.app import open_dashboard as open_

    return open_(**parameters)
