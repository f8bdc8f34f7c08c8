"""Data: the contract, importers, validation, quality scores and the synthetic generator."""

from __future__ import annotations

from simkit.data.importers import SOURCES, ColumnMapping, ImportResult, import_file, load_mapping
from simkit.data.validate import LoadedData, ValidationReport, load, load_metadata, validate

__all__ = [
    "SOURCES",
    "ColumnMapping",
    "ImportResult",
    "LoadedData",
    "ValidationReport",
    "import_file",
    "load",
    "load_mapping",
    "load_metadata",
    "validate",
]
