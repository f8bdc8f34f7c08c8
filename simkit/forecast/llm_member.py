"""The ``llm`` forecast member: daily driver predictions from a language model (issue 18).

The model reads a textual summary of the drivers' history (weekly means and the last 14
days, in natural units: CPM, CTR, CVR, revenue per conversion) and the spend plan, and
returns one prediction per horizon day (:class:`simkit.llm.DriverReply`).  It is an
ordinary member: the ensemble backtests it on the same cutoffs as every other member and
weights it by that backtest, so it earns its weight or gets none.

It is off by default (it costs tokens at every backtest fold): params ``llm_member: true``
add it.  It calls the model only inside :func:`simkit.llm.llm_session` (a report sets it);
anywhere else, or when the call fails or the reply is unusable, it raises and the
ensemble's fallback member stands in with a recorded warning.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd

from simkit.forecast._member import _Member
from simkit.forecast.base import DRIVERS
from simkit.llm import DriverReply, current_client, member_messages

__all__ = ["LLMMember"]


def _sig(x: float) -> float:
    """Four significant digits: a compact prompt whose text does not change with noise in
    the last decimals (stable cache keys)."""
    return float(f"{x:.4g}")


def _natural(values: np.ndarray) -> np.ndarray:
    """``(n, 4)`` transformed drivers to CPM, CTR, CVR, revenue per conversion."""
    out = np.empty_like(values, dtype=float)
    out[:, 0] = np.exp(values[:, 0])
    out[:, 1] = 1 / (1 + np.exp(-values[:, 1]))
    out[:, 2] = 1 / (1 + np.exp(-values[:, 2]))
    out[:, 3] = np.exp(values[:, 3])
    return out


def _transformed(cpm: float, ctr: float, cvr: float, rpc: float) -> list[float]:
    return [np.log(cpm), np.log(ctr / (1 - ctr)), np.log(cvr / (1 - cvr)), np.log(rpc)]


_NAMES = ("cpm", "ctr", "cvr", "revenue_per_conversion")


class LLMMember(_Member):
    """Daily driver predictions from a language model, from a summary of the history.

    Parameters
    ----------
    history_days
        Days of history summarised in the prompt (weekly means over them, plus the last
        14 days one by one).
    alias
        Display name.
    """

    name = "llm"
    min_history_days = 14
    uses_regressors = True

    def __init__(self, *, history_days: int = 56, alias: str = "llm") -> None:
        self.history_days = history_days
        self.alias = alias

    def fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None) -> Self:
        if list(y.columns) != list(DRIVERS):
            raise ValueError(f"expects the drivers {DRIVERS}, got {list(y.columns)}")
        tail = y.tail(self.history_days)
        self.dates_ = pd.DatetimeIndex(tail.index)
        self.values_ = _natural(tail.to_numpy(dtype=float))
        spend = None
        if X is not None and "log_spend" in X:
            spend = np.exp(X["log_spend"].to_numpy(dtype=float))[-len(tail) :]
        self.spend_ = spend
        self.n_obs_ = len(y)
        return self

    def _facts(self, h: int, X_future: pd.DataFrame | None) -> dict[str, Any]:
        last = self.dates_[-1]
        if X_future is not None and isinstance(X_future.index, pd.DatetimeIndex):
            future = X_future.index[:h]
        else:
            future = pd.date_range(last + pd.Timedelta(days=1), periods=h)
        frame = pd.DataFrame(self.values_, index=self.dates_, columns=_NAMES)
        weekly = frame.resample("W-SUN").mean()
        last14 = [
            {
                "date": d.date().isoformat(),
                "weekday": d.day_name(),
                **({"spend": _sig(float(self.spend_[i]))} if self.spend_ is not None else {}),
                **{k: _sig(float(row[k])) for k in _NAMES},
            }
            for i, (d, row) in enumerate(frame.iterrows())
            if i >= len(frame) - 14
        ]
        planned = None
        if X_future is not None and "log_spend" in X_future:
            planned = [_sig(float(v)) for v in np.exp(X_future["log_spend"].to_numpy()[:h])]
        return {
            "history_days": len(frame),
            "weekly_means": [
                {"week_start": (w - pd.Timedelta(days=6)).date().isoformat()}
                | {k: _sig(float(r[k])) for k in _NAMES}
                for w, r in weekly.iterrows()
            ],
            "last_14_days": last14,
            "horizon_dates": [d.date().isoformat() for d in future],
            "planned_spend": planned,
            "recent_spend": None if self.spend_ is None else _sig(float(np.mean(self.spend_[-7:]))),
        }

    def predict(self, h: int, X_future: pd.DataFrame | None = None) -> np.ndarray:
        self._check_fitted()
        client = current_client()
        if client is None:
            raise RuntimeError(
                "no model client: the llm member runs inside a report with llm_member: true"
            )
        facts = self._facts(h, X_future)
        reply = client.parse(member_messages(facts), DriverReply).parsed
        assert isinstance(reply, DriverReply)
        days = reply.days
        want = facts["horizon_dates"]
        got = [d.date.isoformat() for d in days]
        if got != want:
            raise ValueError(
                f"the model returned {len(got)} day(s) for the {len(want)}-day horizon "
                "or not in its order"
            )
        rows = []
        for d in days:
            if not (d.cpm > 0 and 0 < d.ctr < 1 and 0 < d.cvr < 1 and d.revenue_per_conversion > 0):
                raise ValueError(f"the model's rates for {d.date} are out of range")
            rows.append(_transformed(d.cpm, d.ctr, d.cvr, d.revenue_per_conversion))
        return np.asarray(rows, dtype=float)
