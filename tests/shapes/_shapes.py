"""Data shapes that users bring, each written as a file the way a user would give it.

Every shape is one campaign to report on, in a file with or without a metadata sidecar,
read through its mapping where it has one.  The engine, report, runner and dashboard tests
in this folder run over all of them, so a shape that breaks any of them fails a test that
names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simkit.data import synthetic, worlds

REPO = Path(__file__).resolve().parents[2]
SOURCES = REPO / "params" / "sources"


@dataclass(frozen=True)
class Shape:
    """One campaign in one file, and what the engines should make of it."""

    name: str
    data: Path
    campaign_id: str
    mapping: Path | None = None
    #: ``stopped``, ``no_creative``, ``no_budget``, ``short``, ``no_revenue``, ``metadata``
    traits: frozenset[str] = field(default_factory=frozenset)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False)
    return path


def _family_a(seed: int, n_days: int = 120, n: int = 3, **kw) -> synthetic.SyntheticData:
    return synthetic.generate(n, n_days, rng=np.random.default_rng(seed), **kw)


def a_full(root: Path) -> Shape:
    world = _family_a(11)
    data, _meta = world.write(root / "a_full")
    return Shape("a-full-metadata", data, "C001", traits=frozenset({"metadata"}))


def a_no_metadata(root: Path) -> Shape:
    world = _family_a(11)
    return Shape("a-no-metadata", _write(world.data, root / "a_nometa" / "ads.csv"), "C001")


def no_creative(root: Path) -> Shape:
    frame = _family_a(12).data.drop(columns=["creative_id"])
    return Shape(
        "no-creative-id",
        _write(frame, root / "no_creative" / "ads.csv"),
        "C002",
        traits=frozenset({"no_creative"}),
    )


def no_budget(root: Path) -> Shape:
    frame = _family_a(13).data.drop(columns=["budget"])
    return Shape(
        "no-budget",
        _write(frame, root / "no_budget" / "ads.csv"),
        "C001",
        traits=frozenset({"no_budget"}),
    )


def video(root: Path) -> Shape:
    world = worlds.generate(2, 120, rng=np.random.default_rng(14), channels=["video", "search"])
    return Shape("video-channel", _write(world.data, root / "video" / "ads.csv"), "B001")


def stopped(root: Path) -> Shape:
    frame = _family_a(15).data
    last = frame["date"].max()
    keep = (frame["campaign_id"] != "C002") | (frame["date"] <= last - pd.Timedelta(days=21))
    return Shape(
        "stopped",
        _write(frame[keep], root / "stopped" / "ads.csv"),
        "C002",
        traits=frozenset({"stopped"}),
    )


def short(root: Path) -> Shape:
    frame = _family_a(16, n_days=20, events=None).data
    return Shape(
        "20-day-history",
        _write(frame, root / "short" / "ads.csv"),
        "C001",
        traits=frozenset({"short"}),
    )


def family_b(root: Path) -> Shape:
    world = worlds.generate(3, 140, rng=np.random.default_rng(17))
    return Shape("family-b", _write(world.data, root / "family_b" / "ads.csv"), "B002")


def real_online_ad(shared: Path) -> Shape:
    return Shape(
        "real-online-ad-performance",
        shared / "online_ad_performance" / "online_advertising_performance_data.csv",
        "camp 1",
        mapping=SOURCES / "online_ad_performance.yaml",
    )


def real_ab_test(shared: Path) -> Shape:
    return Shape(
        "real-ab-test-bidding",
        shared / "ab_test_bidding_daily" / "test_group.csv",
        "Test Campaign",
        mapping=SOURCES / "ab_test_bidding.yaml",
        traits=frozenset({"no_creative", "no_budget", "no_revenue"}),
    )


def real_facebook(shared: Path) -> Shape:
    return Shape(
        "real-facebook-ad-campaign-dated",
        shared / "facebook_ad_campaign_dated" / "kag_conversion_with_dates_DERIVED.csv",
        "1178",
        mapping=SOURCES / "facebook_ad_campaign_dated.yaml",
        traits=frozenset({"no_creative", "no_budget", "no_revenue", "short"}),
    )


GENERATED: dict[str, Callable[[Path], Shape]] = {
    "a-full-metadata": a_full,
    "a-no-metadata": a_no_metadata,
    "no-creative-id": no_creative,
    "no-budget": no_budget,
    "video-channel": video,
    "stopped": stopped,
    "20-day-history": short,
    "family-b": family_b,
}
REAL: dict[str, Callable[[Path], Shape]] = {
    "real-online-ad-performance": real_online_ad,
    "real-ab-test-bidding": real_ab_test,
    "real-facebook-ad-campaign-dated": real_facebook,
}
ALL = [*GENERATED, *REAL]
