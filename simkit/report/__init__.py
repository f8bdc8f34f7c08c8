"""Report builders: what the campaign and portfolio notebooks display.

Notebooks call these and display the result; all computing happens here.

Examples
--------
>>> report = build_campaign_report(RunParams(data="demo.csv", campaigns=["C01"]))  # doctest: +SKIP
>>> show(report["history"])  # doctest: +SKIP
"""

from __future__ import annotations

from simkit.params import RunParams
from simkit.report.campaign import SECTIONS, CampaignReport, build_campaign_report
from simkit.report.context import CampaignContext, data_hash, load_campaign
from simkit.report.pivots import PIVOTS_FILE, compute_run_pivots, run_pivots
from simkit.report.portfolio import (
    MANIFEST,
    Portfolio,
    load_run,
    portfolio_headline,
    portfolio_sections,
)
from simkit.report.section import SUMMARY_MIME, Section, publish_summary, setup_notebook, show
from simkit.report.sections import data_quality, history, provenance

__all__ = [
    "MANIFEST",
    "PIVOTS_FILE",
    "SECTIONS",
    "SUMMARY_MIME",
    "CampaignContext",
    "CampaignReport",
    "Portfolio",
    "RunParams",
    "Section",
    "build_campaign_report",
    "compute_run_pivots",
    "data_hash",
    "data_quality",
    "history",
    "load_campaign",
    "load_run",
    "portfolio_headline",
    "portfolio_sections",
    "provenance",
    "publish_summary",
    "run_pivots",
    "setup_notebook",
    "show",
]
