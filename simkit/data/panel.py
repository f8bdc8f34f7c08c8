"""The campaign-day panel: one way to read a campaign, built once from validated data.

Every stage (forecast drivers, simulation, risk histories, pivots, the report) reads a
campaign through :class:`CampaignPanel`, so two sections of one report cannot disagree
about the same campaign's day (STYLE.md rule 16).  The contract frame may hold
several rows per campaign-day (breakdowns by creative, ad group, channel, placement); the
panel holds exactly one row per ``campaign_id`` x calendar day, from the campaign's first
row to its last, and these are **the aggregation rules, written down in one place**:

``spend, impressions, clicks, conversions, revenue, reach``
    Summed over the day's rows (``NaN`` only when every row is blank).  Summed reach counts
    a person reached by two breakdowns twice: the platforms' breakdown exports do not give
    the de-duplicated figure, and a sum is the honest upper bound.
``frequency``
    The row's own value on a day with one row; on a day with several rows, summed
    impressions / summed reach where reach is known, else the impression-weighted mean of
    the rows' frequencies.
``impression_share``
    The row's own value on a day with one row; otherwise the impression-weighted mean of
    the rows that carry one (a share of 0.9 on 10 impressions and 0.1 on 10,000 is about
    0.1, not 0.5); the plain mean when none of those rows has impressions.
``budget``
    The daily budget in force that day.  Exports repeat a campaign's budget on every
    breakdown row (Google Ads ad-group and creative rows; the generator writes one row per
    day), while budgets held below the campaign (Meta ad-set budgets) appear as different
    values on different rows.  So: when all of a day's non-blank values are equal, that
    value once (the ``max`` of earlier code gave the same); when they differ, their sum
    (the ``first``/``max`` of earlier code understated a split budget).  Two ad sets with
    exactly equal budgets cannot be told from one repeated campaign budget: a data set
    with that shape should carry the campaign budget instead.
``channel``
    The channel of the day's row with the most impressions (ties: the first row).
``creative_id``, ``creative_generation``, ``creative_age``
    The **dominant creative** is the day's ``creative_id`` with the most impressions
    (summed over its rows; ties: the creative whose first row comes first).  Its
    generation is the 0-based order in which the campaign's creatives first became
    dominant (a creative that returns keeps its number), and its age is the number of
    calendar days since it first became dominant (0 on that day).  ``NaN`` / ``-1`` on days
    without a creative.  Without a ``creative_id`` column there are no generations (the
    consumers that need one treat the whole history as one creative).
``present``
    ``True`` on days with at least one row.  Days inside a campaign's range without a row
    are kept with ``present = False`` and ``NaN`` volumes: never silently filled.  What a
    gap means (no spend, carried drivers, a break in a scan) is each consumer's stated
    choice, made from this flag.
``as_of``
    Rows after ``as_of`` are dropped before anything is computed, so no rule can see a
    later day (a creative's first dominance, a budget).

Example
-------
>>> import numpy as np
>>> from simkit.data.synthetic import generate
>>> world = generate(2, 30, rng=np.random.default_rng(1), events=None)
>>> panel = CampaignPanel.from_data(world.data, as_of="2026-01-20")
>>> panel.ids
('C001', 'C002')
>>> panel.campaign("C001").index[-1].date().isoformat()
'2026-01-20'
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simkit._suggest import did_you_mean
from simkit._types import AsOf, parse_as_of
from simkit.data.schema import METRIC_COLUMNS
from simkit.errors import DataError

__all__ = [
    "PANEL_COLUMNS",
    "SUMMED_COLUMNS",
    "CampaignPanel",
    "dow_dummies",
]

#: Columns summed over a day's rows.
SUMMED_COLUMNS: tuple[str, ...] = (*METRIC_COLUMNS, "reach")
#: Every column a panel may hold, in order (optional ones only when the data have them).
PANEL_COLUMNS: tuple[str, ...] = (
    "campaign_id",
    "date",
    "present",
    *SUMMED_COLUMNS,
    "frequency",
    "impression_share",
    "budget",
    "channel",
    "creative_id",
    "creative_generation",
    "creative_age",
)
_KEY = ["campaign_id", "date"]


def dow_dummies(days: pd.DatetimeIndex | np.ndarray | pd.Series) -> np.ndarray:
    """The one day-of-week encoding: ``(n, 6)`` indicators of Tuesday..Sunday.

    Monday is the reference (all zeros), following pandas' ``day_of_week`` (Monday = 0).
    ``days`` are dates (``DatetimeIndex``, ``datetime64`` array, datetime Series) or
    day-of-week integers 0-6.

    >>> dow_dummies(np.array([0, 1, 6])).argmax(axis=1).tolist()
    [0, 0, 5]
    """
    if isinstance(days, pd.Series):
        days = days.to_numpy()
    values = np.asarray(days)
    if np.issubdtype(values.dtype, np.datetime64):
        # 1970-01-01 (day 0) was a Thursday, day 3 counted from Monday
        dow = (values.astype("datetime64[D]").astype(np.int64) + 3) % 7
    else:
        dow = values.astype(np.int64)
    return (dow[:, None] == np.arange(1, 7)[None, :]).astype(float)


@dataclass(frozen=True)
class CampaignPanel:
    """One row per campaign x calendar day, with the rules of the module docstring.

    Build it with :meth:`from_data`.  ``frame`` is sorted by ``campaign_id, date`` and has
    a plain ``RangeIndex``; :meth:`campaign` gives one campaign's rows indexed by date.

    Attributes
    ----------
    frame
        The panel (columns from :data:`PANEL_COLUMNS` that the data support).
    as_of
        The cut applied (``None``: all rows).
    """

    frame: pd.DataFrame
    as_of: pd.Timestamp | None = None
    _bounds: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_data(
        cls,
        data: pd.DataFrame,
        *,
        as_of: AsOf = None,
        campaign_ids: list[str] | tuple[str, ...] | None = None,
    ) -> CampaignPanel:
        """Build the panel from a contract frame (``simkit.load(...).data``).

        Parameters
        ----------
        data
            Validated contract rows (any breakdown).
        as_of
            Drop rows after this day first (see the module docstring).
        campaign_ids
            Keep only these campaigns.

        Raises
        ------
        DataError
            When required columns are missing, or nothing is left on or before ``as_of``.
        """
        missing = [c for c in ("date", "campaign_id", *METRIC_COLUMNS) if c not in data.columns]
        if missing:
            raise DataError(f"data lacks column(s) {missing}", column=missing[0])
        cut = parse_as_of(as_of)
        key = _content_key(data, cut, campaign_ids)
        if key is not None:
            with _BUILT_LOCK:
                panel = _BUILT.get(key)
                if panel is not None:
                    _BUILT.move_to_end(key)
                    return panel
        panel = cls._build(data, cut, campaign_ids)
        if key is not None:
            with _BUILT_LOCK:
                _BUILT[key] = panel
                while len(_BUILT) > _BUILT_MAX:
                    _BUILT.popitem(last=False)
        return panel

    @classmethod
    def _build(
        cls,
        data: pd.DataFrame,
        cut: pd.Timestamp | None,
        campaign_ids: list[str] | tuple[str, ...] | None,
    ) -> CampaignPanel:
        frame = data
        dates = pd.to_datetime(frame["date"]).dt.normalize()
        ids = frame["campaign_id"].astype(str)
        keep = np.ones(len(frame), dtype=bool)
        if cut is not None:
            keep &= (dates <= cut).to_numpy()
        if campaign_ids is not None:
            keep &= ids.isin({str(c) for c in campaign_ids}).to_numpy()
        if not keep.all():
            frame, dates, ids = frame[keep], dates[keep], ids[keep]
        if frame.empty and cut is not None and len(data):
            raise DataError(f"no data on or before as_of {cut.date()}", column="date")
        rows = frame.assign(campaign_id=ids, date=dates)
        daily = _aggregate(rows)
        daily = _on_calendar(daily)
        if "creative_id" in daily.columns:
            gen, age = _generations(daily)
            daily["creative_generation"] = gen
            daily["creative_age"] = age
        columns = [c for c in PANEL_COLUMNS if c in daily.columns]
        panel = daily[columns].reset_index(drop=True)
        return cls(frame=panel, as_of=cut, _bounds=_bounds(panel))

    # ------------------------------------------------------------------ access
    @property
    def ids(self) -> tuple[str, ...]:
        """Every campaign in the panel, sorted."""
        return tuple(self._bounds)

    def __contains__(self, campaign_id: object) -> bool:
        return str(campaign_id) in self._bounds

    def has(self, column: str) -> bool:
        """Whether the panel holds ``column`` with at least one value."""
        return column in self.frame.columns and bool(self.frame[column].notna().any())

    def campaign(self, campaign_id: str) -> pd.DataFrame:
        """One campaign's days, indexed by a gap-free daily ``DatetimeIndex``.

        Raises
        ------
        DataError
            When the campaign is not in the panel (with a did-you-mean hint).
        """
        key = str(campaign_id)
        if key not in self._bounds:
            hint = did_you_mean(key, list(self._bounds))
            raise DataError(f"campaign '{key}' is not in the data{hint}", column="campaign_id")
        lo, hi = self._bounds[key]
        out = self.frame.iloc[lo:hi].drop(columns="campaign_id")
        return out.set_index(pd.DatetimeIndex(out["date"].to_numpy(), freq="D")).drop(
            columns="date"
        )

    def until(self, as_of: AsOf) -> CampaignPanel:
        """The panel cut after ``as_of`` (ages and generations are causal, so a cut of the
        panel equals a panel of the cut data)."""
        cut = parse_as_of(as_of)
        frame = self.frame[self.frame["date"] <= cut].reset_index(drop=True)
        if frame.empty:
            raise DataError(f"no data on or before as_of {cut.date()}", column="date")
        # trailing missing days cannot exist (each campaign ends on its last row)
        return CampaignPanel(frame=frame, as_of=cut, _bounds=_bounds(frame))

    # ------------------------------------------------------------------ dates
    @property
    def last_date(self) -> pd.Timestamp:
        """The last day in the panel (over all campaigns)."""
        return pd.Timestamp(self.frame["date"].max())

    def campaign_last_date(self, campaign_id: str) -> pd.Timestamp:
        """The campaign's last day with a row."""
        return pd.Timestamp(self.campaign(campaign_id).index[-1])

    def last_spend_date(self, campaign_id: str) -> pd.Timestamp | None:
        """The campaign's last day with positive spend (``None`` if it never spent)."""
        days = self.campaign(campaign_id)
        spent = days.index[days["spend"].fillna(0.0).to_numpy() > 0]
        return pd.Timestamp(spent[-1]) if len(spent) else None

    def is_stopped(self, campaign_id: str, *, quiet_days: int = 14) -> bool:
        """Whether the campaign had stopped by the panel's last day.

        Stopped: its rows end before the panel's last day, or it spent nothing in the last
        ``quiet_days`` days: the rule, and the 14 days, of the report's campaign state
        (:func:`simkit.report.context.campaign_state`).
        """
        last = self.last_date
        if self.campaign_last_date(campaign_id) < last:
            return True
        spent = self.last_spend_date(campaign_id)
        return spent is None or spent <= last - pd.Timedelta(days=quiet_days)


#: Panels built lately, by the content of their rows: one campaign's history reaches
#: several stages (its state, drivers, fatigue, response curve) as the same rows, and
#: building the panel each time was a tenth of a campaign's time in a batch (issue 21).
#: A panel is frozen and its consumers only read it, so sharing one changes nothing.
_BUILT: OrderedDict[tuple[Any, ...], CampaignPanel] = OrderedDict()
_BUILT_LOCK = threading.Lock()
_BUILT_MAX = 8


def _content_key(
    data: pd.DataFrame, cut: pd.Timestamp | None, campaign_ids: Any
) -> tuple[Any, ...] | None:
    """What a panel depends on: the rows' values in order, the columns and their types,
    the cut and the campaigns kept (``None`` when the rows cannot be hashed)."""
    try:
        rows = pd.util.hash_pandas_object(data, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists, say): build it, do not keep it
        return None
    digest = hashlib.sha256(rows.tobytes()).hexdigest()
    columns = tuple((str(c), str(t)) for c, t in data.dtypes.items())
    ids = None if campaign_ids is None else tuple(sorted({str(c) for c in campaign_ids}))
    if ids is not None and set(data["campaign_id"].astype(str).unique()) <= set(ids):
        ids = None  # keeps every row: the panel of all of them
    return (digest, len(data), columns, cut, ids)


def _bounds(panel: pd.DataFrame) -> dict[str, tuple[int, int]]:
    ids = panel["campaign_id"].to_numpy(dtype=object)
    if len(ids) == 0:
        return {}
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    return {str(ids[lo]): (int(lo), int(hi)) for lo, hi in zip(starts, ends, strict=True)}


def _numeric(rows: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(rows[column], errors="coerce").astype(float)


def _aggregate(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign-day with the module's rules (present days only)."""
    summed = [c for c in SUMMED_COLUMNS if c in rows.columns]
    if not rows.duplicated(_KEY).any():
        # one row per day: every rule reduces to the row's own value
        keep = [*_KEY, *summed]
        keep += [c for c in ("frequency", "impression_share", "budget") if c in rows.columns]
        daily = rows[keep].copy()
        for column in keep[2:]:
            daily[column] = _numeric(daily, column)
        if "reach" in daily.columns and "frequency" not in daily.columns:
            reach = daily["reach"].to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                daily["frequency"] = np.where(
                    reach > 0, daily["impressions"].to_numpy(float) / reach, np.nan
                )
        for column in ("channel", "creative_id"):
            if column in rows.columns:
                text = rows[column].astype(object)
                daily[column] = text.where(text.notna(), None).map(
                    lambda v: v if v is None else str(v)
                )
        return daily.sort_values(_KEY, kind="mergesort").reset_index(drop=True)
    values = rows[_KEY].copy()
    for column in summed:
        values[column] = _numeric(rows, column)
    grouped = values.groupby(_KEY, sort=True)
    daily = grouped[summed].sum(min_count=1)
    n_rows = grouped.size()
    impressions = values["impressions"].fillna(0.0)
    for column in ("frequency", "impression_share"):
        if column not in rows.columns:
            continue
        x = _numeric(rows, column)
        w = impressions.where(x.notna(), 0.0)
        frame = pd.DataFrame({"c": values["campaign_id"], "d": values["date"], "x": x})
        frame["xw"], frame["w"] = x.fillna(0.0) * w, w
        g = frame.groupby(["c", "d"], sort=True)
        weighted = (g["xw"].sum() / g["w"].sum().where(g["w"].sum() > 0)).to_numpy()
        plain = g["x"].mean().to_numpy()
        first = g["x"].first().to_numpy()
        value = np.where(np.isfinite(weighted), weighted, plain)
        daily[column] = np.where(n_rows.to_numpy() == 1, first, value)
    if "reach" in daily.columns:
        reach = daily["reach"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(reach > 0, daily["impressions"].to_numpy(float) / reach, np.nan)
        multi = n_rows.to_numpy() > 1
        if "frequency" in daily.columns:
            daily["frequency"] = np.where(
                multi & np.isfinite(ratio), ratio, daily["frequency"].to_numpy(float)
            )
        else:
            daily["frequency"] = ratio
    if "budget" in rows.columns:
        b = pd.DataFrame(
            {"c": values["campaign_id"], "d": values["date"], "b": _numeric(rows, "budget")}
        )
        g = b.groupby(["c", "d"], sort=True)["b"]
        same = (g.nunique(dropna=True) <= 1).to_numpy()
        daily["budget"] = np.where(same, g.max().to_numpy(), g.sum(min_count=1).to_numpy())
    for column in ("channel", "creative_id"):
        if column in rows.columns:
            daily[column] = _dominant(rows, column).reindex(daily.index).to_numpy(dtype=object)
    return daily.reset_index()


def _dominant(rows: pd.DataFrame, column: str) -> pd.Series:
    """The day's value of ``column`` with the most impressions (ties: first row's value)."""
    frame = pd.DataFrame(
        {
            "campaign_id": rows["campaign_id"].to_numpy(),
            "date": rows["date"].to_numpy(),
            "v": rows[column].to_numpy(dtype=object),
            "w": pd.to_numeric(rows["impressions"], errors="coerce").fillna(0.0).to_numpy(),
            "order": np.arange(len(rows)),
        }
    ).dropna(subset=["v"])
    frame["v"] = frame["v"].astype(str)
    frame = frame[frame["v"].str.strip() != ""]  # a blank cell (read from a CSV as "") is no value
    totals = frame.groupby([*_KEY, "v"], sort=False).agg(w=("w", "sum"), order=("order", "min"))
    totals = totals.reset_index().sort_values(
        [*_KEY, "w", "order"], ascending=[True, True, False, True], kind="mergesort"
    )
    best = totals.drop_duplicates(_KEY, keep="first")
    return best.set_index(_KEY)["v"]


def _on_calendar(daily: pd.DataFrame) -> pd.DataFrame:
    """Every calendar day of each campaign's range, missing days flagged (the one reindex)."""
    if daily.empty:
        out = daily.copy()
        out["present"] = pd.Series(dtype=bool)
        return out
    first = daily.groupby("campaign_id", sort=True)["date"].agg(["min", "max"])
    n = ((first["max"] - first["min"]).dt.days + 1).to_numpy()
    if int(n.sum()) == len(daily):
        out = daily.copy()
        out["present"] = True
        return out
    cids = np.repeat(first.index.to_numpy(dtype=object), n)
    offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    days = np.repeat(first["min"].to_numpy(), n) + offsets.astype("timedelta64[D]")
    calendar = pd.MultiIndex.from_arrays([cids, pd.DatetimeIndex(days)], names=_KEY)
    out = daily.set_index(_KEY).reindex(calendar)
    out["present"] = out.index.isin(daily.set_index(_KEY).index)
    return out.reset_index()


def _generations(daily: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Generation number and age in days of each day's dominant creative (see docstring)."""
    creative = daily["creative_id"]
    # a blank cell (read from a CSV as "") is no creative, as a missing value is
    have = (creative.notna() & (creative.astype(str).str.strip() != "")).to_numpy()
    gen = np.full(len(daily), -1, dtype=np.int64)
    age = np.full(len(daily), np.nan)
    if not have.any():
        return gen, age
    seen = daily.loc[have, ["campaign_id", "creative_id", "date"]]
    first = seen.groupby(["campaign_id", "creative_id"], sort=False)["date"].transform("min")
    age[have] = (seen["date"] - first).dt.days.to_numpy(dtype=float)
    starts = (
        seen.assign(first=first)
        .drop_duplicates(["campaign_id", "creative_id"])
        .sort_values(["campaign_id", "first"], kind="mergesort")
    )
    starts["gen"] = starts.groupby("campaign_id", sort=False).cumcount()
    number = starts.set_index(["campaign_id", "creative_id"])["gen"]
    keys = pd.MultiIndex.from_frame(seen[["campaign_id", "creative_id"]])
    gen[have] = number.reindex(keys).to_numpy(dtype=np.int64)
    return gen, age
