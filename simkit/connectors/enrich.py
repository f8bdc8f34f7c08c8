"""Market series onto the campaign-day panel, each with a quality score and a stated fallback.

**Ties.** A campaign is tied to Trends topics and SEMrush phrases by a links file (YAML):
``campaigns: {C001: {topics: [gym], phrases: [gym membership]}}`` per campaign, and
``industries: {Fitness: {topics: [...], phrases: [...]}}`` for every campaign whose
metadata names that industry (the campaign's own entry wins).  A campaign without a tie
gets no market columns, and the report says so.

**Daily values.** A weekly or monthly index becomes daily by ``step`` (each day carries
its period's value: what was known at the period's end, so a backtest that uses it
cannot see inside a later period) or ``linear`` (interpolated between the periods'
middle days; smoother, but a day reads half a period ahead).  The method is in the
``mkt_trend_method`` column and the report.  SEMrush's volume is a 12-month average of
monthly searches: it becomes a constant daily rate (``Nq / 30.4375``), flagged
``constant``.

**Fallback, in order, per day:** ``observed`` (a fresh value covers the day);
``stale`` (the stale cache: a SEMrush reply older than :data:`SEMRUSH_FRESH_DAYS`, or
served from the cache after the source failed); ``last_known`` (after a Trends series
ends: its last value carried forward, for at most :data:`CARRY_PERIODS` periods);
``none`` (nothing: the value is missing and the flag says so).  A Trends export has no
stale step: its periods either cover a day or they do not.  The report gives, per campaign and series,
the counts and the worst step used.

**Quality score** (0-100) per merged series and campaign: 50% date coverage (the share
of the campaign's days with an ``observed`` or ``stale`` value), 30% freshness (1 when
the series reaches the campaign's last day, falling linearly to 0 at 90 days short; stale
data count half), 20% reliability (the source's: Trends 0.8, SEMrush 0.7; times
0.75 for a monthly series and 0.9 for a weekly one made daily).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simkit.connectors.trends import MarketSeries
from simkit.data.panel import CampaignPanel
from simkit.errors import DataError, ParamsError, yaml_problem

__all__ = [
    "CARRY_PERIODS",
    "CampaignLinks",
    "EnrichmentResult",
    "FLAGS",
    "MARKET_COLUMNS",
    "SeriesQuality",
    "daily_values",
    "enrich_panel",
    "read_links",
    "with_market_columns",
]

FLAGS = ("observed", "stale", "last_known", "none")
CARRY_PERIODS = 2
#: What the worst step of the fallback used for a series means, for the report.
FALLBACK_MEANS = {
    "observed": "no fallback: a fresh value on every day",
    "stale": "stale cache: a reply older than its freshness window (or served after the "
    "source failed) was used",
    "last_known": "last known value carried forward on the days after the series ends",
    "none": "nothing: some days have no value (flagged 'none')",
}
SEMRUSH_RELIABILITY = 0.7
SEMRUSH_FRESH_DAYS = 30
_RESOLUTION = {"daily": 1.0, "weekly": 0.9, "monthly": 0.75, "constant": 1.0}
_DAYS_PER_MONTH = 30.4375
#: The numeric columns enrichment adds (the forecast's candidate regressors).
MARKET_COLUMNS = ("mkt_trend", "mkt_search_volume", "mkt_cpc", "mkt_competition")


@dataclass(frozen=True)
class CampaignLinks:
    """Which topics and phrases each campaign is tied to, and by what."""

    topics: dict[str, tuple[str, ...]]
    phrases: dict[str, tuple[str, ...]]
    how: dict[str, str]


def read_links(
    path: str | Path, campaign_ids: tuple[str, ...], campaigns_meta: pd.DataFrame | None = None
) -> CampaignLinks:
    """The links file, resolved for ``campaign_ids`` (with their metadata's ``industry``)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsError(
            f"cannot read the links file ({type(exc).__name__}; it is UTF-8 YAML)",
            file=str(path),
        ) from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"not YAML: {yaml_problem(exc)}", file=str(path)) from None
    if not isinstance(raw, dict):
        raise ParamsError("expected 'campaigns:' and/or 'industries:' mappings", file=str(path))
    unknown = set(raw) - {"campaigns", "industries"}
    if unknown:
        raise ParamsError(
            f"unknown key(s) {sorted(unknown)}: use 'campaigns' and 'industries'",
            file=str(path),
            field=sorted(unknown)[0],
        )

    def entries(section: str) -> dict[str, dict[str, tuple[str, ...]]]:
        block = raw.get(section) or {}
        if not isinstance(block, dict):
            raise ParamsError(f"'{section}' is a mapping", file=str(path), field=section)
        out = {}
        for key, value in block.items():
            if not isinstance(value, dict) or set(value) - {"topics", "phrases"}:
                raise ParamsError(
                    "each entry has 'topics' and/or 'phrases' (lists)",
                    file=str(path),
                    field=f"{section}.{key}",
                )
            out[str(key)] = {
                k: tuple(str(x) for x in (value.get(k) or [])) for k in ("topics", "phrases")
            }
        return out

    per_campaign, per_industry = entries("campaigns"), entries("industries")
    absent = [cid for cid in per_campaign if cid not in campaign_ids]
    if absent:
        shown = ", ".join(campaign_ids[:5]) + (", ..." if len(campaign_ids) > 5 else "")
        raise ParamsError(
            f"campaign {absent[0]!r} is not in the data (its campaigns: {shown}); "
            "a typo would leave the campaign without market columns",
            file=str(path),
            field=f"campaigns.{absent[0]}",
        )
    industry: dict[str, str] = {}
    if campaigns_meta is not None and "industry" in campaigns_meta.columns:
        for row in campaigns_meta.itertuples(index=False):
            value = getattr(row, "industry", None)
            if isinstance(value, str) and value:
                industry[str(row.campaign_id)] = value
    topics: dict[str, tuple[str, ...]] = {}
    phrases: dict[str, tuple[str, ...]] = {}
    how: dict[str, str] = {}
    lowered = {k.lower(): v for k, v in per_industry.items()}
    for cid in campaign_ids:
        if cid in per_campaign:
            entry, how[cid] = per_campaign[cid], "campaign entry"
        elif cid in industry and industry[cid].lower() in lowered:
            entry, how[cid] = lowered[industry[cid].lower()], f"industry {industry[cid]}"
        else:
            how[cid] = "no tie (no campaign entry, no industry entry for its metadata)"
            continue
        topics[cid], phrases[cid] = entry["topics"], entry["phrases"]
    return CampaignLinks(topics, phrases, how)


def daily_values(
    series: MarketSeries, days: pd.DatetimeIndex, *, method: str = "step"
) -> tuple[np.ndarray, np.ndarray]:
    """``series`` on ``days``: the values and a flag per day (``observed`` where a period
    covers the day, ``last_known`` for :data:`CARRY_PERIODS` periods after the last one,
    else ``none``)."""
    if method not in ("step", "linear"):
        raise ParamsError(f"unknown daily method {method!r}: step or linear", field="method")
    values = np.full(len(days), np.nan)
    flags = np.full(len(days), "none", dtype=object)
    if len(days) == 0 or len(series.dates) == 0:
        return values, flags
    known = np.isfinite(series.values)
    starts = series.dates[known]
    vals = series.values[known]
    if len(starts) == 0:
        return values, flags
    d = days.values.astype("datetime64[D]")
    first = np.datetime64(starts[0].date(), "D")
    last_day = np.datetime64(series.last_day.date(), "D")
    covered = (d >= first) & (d <= last_day)
    # period of each day: the last start on or before it
    pos = np.searchsorted(starts.values.astype("datetime64[D]"), d, side="right") - 1
    if method == "step" or len(starts) < 2:
        values[covered] = vals[pos[covered]]
    else:
        if series.frequency == "monthly":
            mids = starts + pd.to_timedelta((starts.days_in_month - 1) / 2, unit="D")
        else:
            mids = starts + pd.Timedelta(days=(series.period_days - 1) / 2)
        x = mids.values.astype("datetime64[h]").astype(float)
        xd = d.astype("datetime64[h]").astype(float)
        values[covered] = np.interp(xd[covered], x, vals)
    flags[covered] = "observed"
    carry_until = last_day + np.timedelta64(CARRY_PERIODS * series.period_days, "D")
    carried = (d > last_day) & (d <= carry_until)
    values[carried] = vals[-1]
    flags[carried] = "last_known"
    return values, flags


@dataclass(frozen=True)
class SeriesQuality:
    """The quality of one merged series for one campaign, and the fallback it used."""

    campaign_id: str
    column: str
    source: str
    terms: tuple[str, ...]
    frequency: str
    method: str
    coverage: float
    freshness: float
    reliability: float
    score: float
    flags: dict[str, int]
    fallback: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "column": self.column,
            "source": self.source,
            "terms": list(self.terms),
            "frequency": self.frequency,
            "method": self.method,
            "coverage": round(self.coverage, 4),
            "freshness": round(self.freshness, 4),
            "reliability": round(self.reliability, 4),
            "score": round(self.score, 1),
            "flags": self.flags,
            "fallback": self.fallback,
            "fallback_means": FALLBACK_MEANS[self.fallback],
            "notes": list(self.notes),
        }


def _quality(
    campaign_id: str,
    column: str,
    source: str,
    terms: tuple[str, ...],
    frequency: str,
    method: str,
    flags: np.ndarray,
    reaches: pd.Timestamp | None,
    campaign_last: pd.Timestamp,
    base_reliability: float,
    stale: bool,
    notes: list[str],
) -> SeriesQuality:
    n = max(1, len(flags))
    counts = {f: int(np.sum(flags == f)) for f in FLAGS}
    coverage = (counts["observed"] + counts["stale"]) / n
    if reaches is None:
        freshness = 0.0
    else:
        lag = max(0, (campaign_last - reaches).days)
        freshness = max(0.0, 1.0 - lag / 90.0)
    if stale:
        freshness *= 0.5
    reliability = base_reliability * _RESOLUTION.get(frequency, 1.0)
    score = 100.0 * (0.5 * coverage + 0.3 * freshness + 0.2 * reliability)
    fallback = next((f for f in reversed(FLAGS) if counts[f] > 0), "none")
    return SeriesQuality(
        campaign_id,
        column,
        source,
        terms,
        frequency,
        method,
        coverage,
        freshness,
        reliability,
        score,
        counts,
        fallback,
        tuple(notes),
    )


@dataclass
class EnrichmentResult:
    """The enriched panel rows (present days), and what was merged, how well."""

    frame: pd.DataFrame
    quality: list[SeriesQuality]
    links: CampaignLinks
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaigns": {
                cid: {
                    "tied_by": self.links.how.get(cid),
                    "topics": list(self.links.topics.get(cid, ())),
                    "phrases": list(self.links.phrases.get(cid, ())),
                }
                for cid in self.links.how
            },
            "series": [q.to_dict() for q in self.quality],
            "columns": list(MARKET_COLUMNS),
            "notes": list(self.notes),
        }


def _worst(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    rank = {f: i for i, f in enumerate(FLAGS)}
    return np.where(np.vectorize(rank.get)(a) >= np.vectorize(rank.get)(b), a, b)


def _match(series: list[MarketSeries], topic: str) -> MarketSeries | None:
    wanted = topic.strip().lower()
    geo = None
    if "@" in wanted:
        wanted, geo = (part.strip() for part in wanted.split("@", 1))
    found = [
        s for s in series if s.term.lower() == wanted and (geo is None or s.geo.lower() == geo)
    ]
    return found[0] if found else None


def enrich_panel(
    panel: CampaignPanel,
    *,
    links: CampaignLinks,
    trends: list[MarketSeries] | None = None,
    keywords: pd.DataFrame | None = None,
    method: str = "step",
    now: float | None = None,
) -> EnrichmentResult:
    """Merge the linked market series onto every campaign-day of ``panel``.

    Returns the panel's present days with :data:`MARKET_COLUMNS` and, per series, a
    ``*_flag`` (:data:`FLAGS`), a ``*_method`` and a ``*_quality`` column.
    """
    now = time.time() if now is None else now
    trends = trends or []
    frames = []
    quality: list[SeriesQuality] = []
    notes: list[str] = []
    kw = _keywords_table(keywords) if keywords is not None else None
    for cid in panel.ids:
        days = panel.campaign(cid)
        days = days[days["present"]] if "present" in days.columns else days
        out = days.reset_index().rename(columns={"index": "date"})
        if "date" not in out.columns:
            out.insert(0, "date", days.index)
        out["campaign_id"] = cid
        index = pd.DatetimeIndex(days.index)
        last = index.max()
        out["mkt_trend"] = np.nan
        out["mkt_trend_flag"] = "none"
        out["mkt_trend_method"] = ""
        out["mkt_trend_quality"] = np.nan
        topics = links.topics.get(cid, ())
        if topics:
            acc = np.zeros(len(index))
            n = np.zeros(len(index))
            flags = np.full(len(index), "observed", dtype=object)
            used, methods, series_notes = [], set(), []
            reaches: pd.Timestamp | None = None
            stale = False
            frequency = "daily"
            for topic in topics:
                s = _match(trends, topic)
                if s is None:
                    series_notes.append(f"topic {topic!r}: no Trends export holds it")
                    flags = _worst(flags, np.full(len(index), "none", dtype=object))
                    continue
                values, f = daily_values(s, index, method=method)
                ok = np.isfinite(values)
                acc[ok] += values[ok]
                n[ok] += 1
                flags = _worst(flags, f)
                used.append(f"{s.term} ({s.geo})")
                methods.add("daily" if s.frequency == "daily" else f"{s.frequency}->daily {method}")
                reaches = s.last_day if reaches is None else min(reaches, s.last_day)
                if _RESOLUTION[s.frequency] < _RESOLUTION[frequency]:
                    frequency = s.frequency
                if s.below_one.any():
                    series_notes.append(
                        f"{s.term}: {int(s.below_one.sum())} '<1' values read as 0.5"
                    )
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(n > 0, acc / np.maximum(n, 1), np.nan)
            out["mkt_trend"] = mean
            out["mkt_trend_flag"] = flags
            out["mkt_trend_method"] = "; ".join(sorted(methods))
            q = _quality(
                cid,
                "mkt_trend",
                "trends",
                tuple(used) or topics,
                frequency,
                "; ".join(sorted(methods)) or "-",
                np.asarray(flags),
                reaches,
                last,
                0.8,
                stale,
                series_notes,
            )
            out["mkt_trend_quality"] = q.score
            quality.append(q)
        for column in ("mkt_search_volume", "mkt_cpc", "mkt_competition"):
            out[column] = np.nan
        out["mkt_keywords_flag"] = "none"
        out["mkt_keywords_quality"] = np.nan
        phrases = links.phrases.get(cid, ()) if kw is not None else ()
        if links.phrases.get(cid) and kw is None:
            notes.append(f"{cid}: phrases linked but no keywords file given; not merged")
        if phrases:
            q, values, flag = _keywords_for(cid, phrases, kw, now, len(index), last)
            for column, value in values.items():
                out[column] = value
            out["mkt_keywords_flag"] = flag
            out["mkt_keywords_quality"] = q.score
            quality.append(q)
        if not topics and not links.phrases.get(cid):
            notes.append(f"{cid}: {links.how.get(cid, 'no tie')}; no market columns")
        frames.append(out)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    # the panel's own bookkeeping is not data: the file stays in the contract + mkt_*
    frame = frame.drop(
        columns=[c for c in ("present", "creative_generation", "creative_age") if c in frame]
    )
    front = ["date", "campaign_id"]
    frame = frame[front + [c for c in frame.columns if c not in front]]
    return EnrichmentResult(frame, quality, links, notes)


def _keywords_table(keywords: pd.DataFrame) -> pd.DataFrame:
    need = {"phrase", "search_volume", "cpc", "competition", "status"}
    missing = need - set(keywords.columns)
    if missing:
        raise DataError(
            f"the keywords file lacks {sorted(missing)} (write it with `simkit fetch semrush`)",
            column=sorted(missing)[0],
        )
    table = keywords.copy()
    table["key"] = table["phrase"].astype(str).str.strip().str.lower()
    return table.drop_duplicates("key", keep="last").set_index("key")


def _keywords_for(
    cid: str,
    phrases: tuple[str, ...],
    kw: pd.DataFrame | None,
    now: float,
    n_days: int,
    last: pd.Timestamp,
) -> tuple[SeriesQuality, dict[str, float], str]:
    notes: list[str] = []
    found = []
    stale = False
    for phrase in phrases:
        key = phrase.strip().lower()
        if kw is None or key not in kw.index:
            notes.append(f"phrase {phrase!r}: not in the keywords file")
            continue
        row = kw.loc[key]
        if row["status"] != "ok" or not np.isfinite(float(row["search_volume"])):
            notes.append(f"phrase {phrase!r}: SEMrush has nothing for it ({row['status']})")
            continue
        fetched = pd.Timestamp(row.get("fetched_at")) if "fetched_at" in row else None
        age_days = (
            (pd.Timestamp(now, unit="s", tz="UTC") - fetched).days
            if fetched is not None and not pd.isna(fetched)
            else None
        )
        if bool(row.get("stale", False)) or (
            age_days is not None and age_days > SEMRUSH_FRESH_DAYS
        ):
            stale = True
            notes.append(f"phrase {phrase!r}: reply {age_days} day(s) old (stale)")
        found.append(row)
    if found:
        volume = np.array([float(r["search_volume"]) for r in found])
        cpc = np.array([float(r["cpc"]) if np.isfinite(float(r["cpc"])) else np.nan for r in found])
        comp = np.array([float(r["competition"]) for r in found])
        weights = (
            volume / volume.sum() if volume.sum() > 0 else np.full(len(volume), 1 / len(volume))
        )
        values = {
            "mkt_search_volume": float(volume.sum() / _DAYS_PER_MONTH),
            "mkt_cpc": float(np.nansum(weights * cpc)),
            "mkt_competition": float(np.sum(weights * comp)),
        }
        flag = "stale" if stale else "observed"
    else:
        values = {"mkt_search_volume": np.nan, "mkt_cpc": np.nan, "mkt_competition": np.nan}
        flag = "none"
    if found and len(found) < len(phrases):
        notes.append(f"{len(found)} of {len(phrases)} phrase(s) have data; the sums cover those")
    flags = np.full(n_days, flag, dtype=object)
    q = _quality(
        cid,
        "mkt_search_volume",
        "semrush",
        phrases,
        "constant",
        "constant daily rate (12-month average monthly volume / 30.4375)",
        flags,
        last if found else None,
        last,
        SEMRUSH_RELIABILITY,
        stale,
        notes,
    )
    return q, values, flag


def with_market_columns(panel: CampaignPanel, enriched: pd.DataFrame) -> CampaignPanel:
    """``panel`` with the market columns of ``enriched`` on its days (NaN elsewhere), for
    the forecast's candidate regressors: the columns travel in the panel."""
    keep = ["campaign_id", "date", *[c for c in enriched.columns if c.startswith("mkt_")]]
    extra = enriched[keep].copy()
    extra["date"] = pd.to_datetime(extra["date"])
    extra["campaign_id"] = extra["campaign_id"].astype(str)
    frame = panel.frame.merge(extra, on=["campaign_id", "date"], how="left", validate="1:1")
    return replace(panel, frame=frame)
