"""Fixtures for the market tests: auction-insights exports shaped like Google's download.

No real auction-insights export is public (PROVENANCE.md section 5), so the exports are
generated here, in the layout of a real UK download (title line, quoted date-range line,
``< 10%`` and `` --`` cells, the ``You`` row among the competitors).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simkit.data.synthetic import InjectedEvent, generate

HEADER = (
    "Display URL domain,Impression share,Overlap rate,Position above rate,"
    "Top of page rate,Abs. Top of page rate,Outranking share"
)
RATES = (
    "impression_share",
    "overlap_rate",
    "position_above_rate",
    "top_of_page_rate",
    "abs_top_of_page_rate",
    "outranking_share",
)


def pct(value: float | None, *, censor: bool = False) -> str:
    """A rate as Google writes it: ``45.23%``, ``< 10%`` (when censored), `` --``."""
    if value is None or not np.isfinite(value):
        return " --"
    if censor and value < 0.10:
        return "< 10%"
    return f"{100 * value:.2f}%"


def export_rows(rows: dict[str, dict[str, float | None]]) -> list[str]:
    out = []
    for domain, values in rows.items():
        cells = [pct(values.get("impression_share"), censor=True)]
        cells += [pct(values.get(r)) for r in RATES[1:]]
        out.append(",".join([domain, *cells]))
    return out


def write_export(
    path: Path,
    rows: dict[str, dict[str, float | None]],
    *,
    start: date,
    end: date,
    encoding: str = "utf-8",
) -> Path:
    """One export for one date range (Google's default: no time segment)."""
    lines = [
        "Auction insights report",
        f'"{start:%B} {start.day}, {start.year} - {end:%B} {end.day}, {end.year}"',
        HEADER,
        *export_rows(rows),
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def write_segmented_export(
    path: Path,
    weeks: Sequence[tuple[date, dict[str, dict[str, float | None]]]],
    *,
    date_style: str = "iso",
) -> Path:
    """One export segmented by week (a leading ``Week`` column)."""
    first, last = weeks[0][0], weeks[-1][0] + timedelta(days=6)
    lines = [
        "Auction insights report",
        f'"{first:%B} {first.day}, {first.year} - {last:%B} {last.day}, {last.year}"',
        "Week," + HEADER,
    ]
    for week, rows in weeks:
        label = (
            week.isoformat() if date_style == "iso" else f'"{week:%b} {week.day}, {week.year}"'
        )  # quoted: it has a comma
        lines += [f"{label},{row}" for row in export_rows(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def competitor_world(rng: np.random.Generator, n_weeks: int = 16, entry_week: int = 10):
    """A search campaign (C001) whose CPM rises 50% when newrival.com enters, plus a
    weekly auction-insights series consistent with it.  Returns (synthetic data, weeks)."""
    start = date(2026, 1, 5)  # a Monday
    entry = start + timedelta(weeks=entry_week)
    world = generate(
        2,
        7 * n_weeks,
        rng=rng,
        start=start,
        channels=["search", "search"],
        events=[InjectedEvent("competitor_entry", "C001", entry, 0.5)],
    )
    ours = world.data[world.data["campaign_id"] == "C001"].set_index("date")
    weeks = []
    for w in range(n_weeks):
        monday = start + timedelta(weeks=w)
        days = pd.date_range(monday, periods=7)
        rows: dict[str, dict[str, float | None]] = {
            "You": {
                "impression_share": float(ours.loc[days, "impression_share"].mean()),
                "top_of_page_rate": 0.70,
                "abs_top_of_page_rate": 0.25,
            },
            "rival-one.com": {
                "impression_share": 0.35 + rng.normal(0, 0.02),
                "overlap_rate": 0.50,
                "position_above_rate": 0.45,
                "top_of_page_rate": 0.80,
                "abs_top_of_page_rate": 0.30,
                "outranking_share": 0.40,
            },
            "rival-two.co.uk": {
                "impression_share": 0.28 - 0.01 * w + rng.normal(0, 0.01),
                "overlap_rate": 0.30,
                "position_above_rate": 0.35,
                "top_of_page_rate": 0.60,
                "abs_top_of_page_rate": 0.15,
                "outranking_share": 0.55,
            },
            "smallshop.io": {
                "impression_share": 0.06,
                "overlap_rate": 0.08,
                "position_above_rate": 0.20,
                "top_of_page_rate": 0.40,
                "abs_top_of_page_rate": 0.05,
                "outranking_share": 0.70,
            },
        }
        if w >= entry_week:
            rows["newrival.com"] = {
                "impression_share": 0.30 + rng.normal(0, 0.02),
                "overlap_rate": 0.45,
                "position_above_rate": 0.60,
                "top_of_page_rate": 0.85,
                "abs_top_of_page_rate": 0.40,
                "outranking_share": 0.35,
            }
        weeks.append((monday, rows))
    return world, weeks


@pytest.fixture(scope="session")
def auction_kit() -> SimpleNamespace:
    """The export writers above, for tests (fixtures cannot be imported as modules here)."""
    return SimpleNamespace(
        pct=pct,
        export_rows=export_rows,
        write_export=write_export,
        write_segmented_export=write_segmented_export,
        competitor_world=competitor_world,
        HEADER=HEADER,
    )


@pytest.fixture(scope="session")
def world_and_weeks():
    return competitor_world(np.random.default_rng(20260105))


@pytest.fixture(scope="session")
def weekly_export(tmp_path_factory, world_and_weeks) -> Path:
    folder = tmp_path_factory.mktemp("auction")
    return write_segmented_export(folder / "auction_weekly.csv", world_and_weeks[1])
