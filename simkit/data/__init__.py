"""Data: the contract, importers, validation, quality scores, the campaign-day panel and the
synthetic generator."""

from __future__ import annotations

from simkit.data.importers import SOURCES, ColumnMapping, ImportResult, import_file, load_mapping
from simkit.data.panel import CampaignPanel, dow_dummies
from simkit.data.validate import LoadedData, ValidationReport, load, load_metadata, validate

__all__ = [
    "SOURCES",
    "CampaignPanel",
    "ColumnMapping",
    "ImportResult",
    "LoadedData",
    "ValidationReport",
    "import_file",
    "load",
    "load_mapping",
    "load_metadata",
    "validate",
    "dow_dummies",
]
