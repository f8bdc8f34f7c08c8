"""Champion against challenger: a paired test on the same campaign days.

A challenger's forecast is paired with the champion's issued for the same campaign and
``as_of``; each day both scored is one pair, and the difference is the challenger's CRPS
minus the champion's (negative: the challenger did better).  The Wilcoxon signed-rank test
(:func:`scipy.stats.wilcoxon`, two-sided, zero differences dropped) says whether the
challenger differs; the effect size is the mean difference, the relative change of the mean
CRPS, and the matched-pairs rank-biserial correlation.  Identical forecasts give only zero
differences: not different, p = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata, wilcoxon

from simkit.ledger.record import CHAMPION

__all__ = ["ALPHA", "Comparison", "compare_configs", "paired_days"]

ALPHA = 0.05


@dataclass(frozen=True)
class Comparison:
    """The verdict on one challenger (``better``, ``worse`` or ``not different``)."""

    challenger: str
    champion: str
    pairs: int
    forecasts: int
    champion_crps: float | None
    challenger_crps: float | None
    mean_difference: float | None
    relative_change: float | None
    rank_biserial: float | None
    p_value: float | None
    verdict: str
    champion_abs_error: float | None = None
    challenger_abs_error: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def paired_days(days: pd.DataFrame, challenger: str, champion: str = CHAMPION) -> pd.DataFrame:
    """The days scored for both configurations, from forecasts of the same campaign and
    ``as_of``: one row per pair with both CRPS and absolute errors."""
    cols = ["campaign_id", "as_of", "date", "crps", "abs_error", "forecast_id"]
    a = days.loc[days["config"] == champion, cols]
    b = days.loc[days["config"] == challenger, cols]
    return a.merge(b, on=["campaign_id", "as_of", "date"], suffixes=("_champion", "_challenger"))


def _rank_biserial(diff: np.ndarray) -> float | None:
    nonzero = diff[diff != 0]
    if not len(nonzero):
        return 0.0
    ranks = rankdata(np.abs(nonzero))
    total = ranks.sum()
    return float((ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / total)


def compare_configs(
    days: pd.DataFrame, challenger: str, *, champion: str = CHAMPION, alpha: float = ALPHA
) -> Comparison:
    """Compare ``challenger`` with ``champion`` on their paired days (see the module)."""
    pairs = paired_days(days, challenger, champion) if not days.empty else pd.DataFrame()
    if pairs.empty:
        return Comparison(
            challenger, champion, 0, 0, None, None, None, None, None, None, "no paired days"
        )
    a = pairs["crps_champion"].to_numpy(dtype=float)
    b = pairs["crps_challenger"].to_numpy(dtype=float)
    diff = b - a
    if np.all(diff == 0):
        p_value = 1.0
    else:
        p_value = float(wilcoxon(b, a, zero_method="wilcox", alternative="two-sided").pvalue)
    mean_a, mean_b = float(a.mean()), float(b.mean())
    if p_value < alpha:
        verdict = "worse" if diff.mean() > 0 else "better"
    else:
        verdict = "not different"
    return Comparison(
        challenger=challenger,
        champion=champion,
        pairs=len(pairs),
        forecasts=int(pairs["forecast_id_challenger"].nunique()),
        champion_crps=mean_a,
        challenger_crps=mean_b,
        mean_difference=float(diff.mean()),
        relative_change=(mean_b - mean_a) / mean_a if mean_a > 0 else None,
        rank_biserial=_rank_biserial(diff),
        p_value=p_value,
        verdict=verdict,
        champion_abs_error=float(pairs["abs_error_champion"].mean()),
        challenger_abs_error=float(pairs["abs_error_challenger"].mean()),
    )
