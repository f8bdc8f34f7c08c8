"""The data contract: one row per ``date`` x ``campaign_id`` (optionally x breakdown columns).

Everything downstream (forecasts, simulation, risks, pivots, reports) reads a frame that
obeys this contract.  Importers map platform exports onto it; :mod:`simkit.data.validate`
checks it.
"""

from __future__ import annotations

KEY_COLUMNS: tuple[str, ...] = ("date", "campaign_id")
METRIC_COLUMNS: tuple[str, ...] = ("spend", "impressions", "clicks", "conversions", "revenue")
REQUIRED_COLUMNS: tuple[str, ...] = KEY_COLUMNS + METRIC_COLUMNS
#: Optional numeric columns, with their meaning.
OPTIONAL_NUMERIC_COLUMNS: dict[str, str] = {
    "reach": "unique people reached that day",
    "frequency": "average impressions per person reached",
    "impression_share": "share of eligible impressions won, 0-1",
    "budget": "the daily budget in force that day (account currency)",
}
#: Optional text columns: breakdowns and per-row campaign metadata.
OPTIONAL_TEXT_COLUMNS: tuple[str, ...] = ("channel", "creative_id", "ad_group")
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(OPTIONAL_NUMERIC_COLUMNS) + OPTIONAL_TEXT_COLUMNS
ALL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: Count columns must hold whole numbers.
COUNT_COLUMNS: tuple[str, ...] = ("impressions", "clicks", "conversions", "reach")
NUMERIC_COLUMNS: tuple[str, ...] = METRIC_COLUMNS + tuple(OPTIONAL_NUMERIC_COLUMNS)

#: Campaign metadata fields (a second table or YAML beside the data).
METADATA_FIELDS: tuple[str, ...] = (
    "campaign_id",
    "name",
    "channel",
    "objective",
    "industry",
    "budget_daily",
    "budget_total",
    "flight_start",
    "flight_end",
    "target_cpa",
    "target_roas",
    "currency",  # ISO code of the money columns; reports show USD when absent
    "client",  # who the campaign is run for: `simkit export|purge --client NAME` selects by it
)

#: Fewest days of history with which later stages can do anything useful.
MIN_HISTORY_DAYS = 14
#: Days of history at which the full forecasting ensemble (with yearly effects off) is usable.
FULL_HISTORY_DAYS = 56
