"""Published industry benchmarks: normalisation, the conflict rule, and look-up.

The published figures (``../shared/data/benchmarks/industry_benchmarks.csv``, see its
PROVENANCE.md section 4) come from about 30 web pages that quote the WordStream / LocaliQ
reports (and two vendors' own datasets), for different years, with platform and industry
labels that differ from page to page.  ``scripts/build_benchmarks.py`` turns that file into
the table simkit ships (``simkit/market/data/benchmarks.csv``) with the two pure functions
here:

:func:`normalise_published`
    one row per published figure (source row x metric), rates as fractions (the file gives
    percent), platform labels mapped to a channel (``search``/``social``/``display``),
    industry labels mapped to one name per industry (:data:`INDUSTRY_ALIASES`), and the
    source's address, domain, tier, year, original labels and line kept on every row.
:func:`resolve_conflicts`
    the conflict rule.  Within each (channel, industry, metric) the figures are ranked by

    1. **newest year** first;
    2. **primary source** first: the tiers are ``primary`` (the report publisher's own site,
       wordstream.com / localiq.com) > ``press`` (trade press quoting the report directly:
       MediaPost, MarketingCharts, Search Engine Journal, Smart Insights) > ``secondary``
       (blogs, agencies and aggregators reproducing it; every domain not listed) >
       ``vendor`` (a vendor's own dataset, not the WordStream study: superads.ai,
       lebesgue.io), see :data:`SOURCE_TIERS`;
    3. the whole platform before a segment of it (one country, one campaign objective);
    4. the fuller table first (the source row that gives more of the four metrics, which
       is more likely a direct transcription of the report's table);
    5. the source address, alphabetically (only so that the result is deterministic).

    The first figure is ``selected``; every figure of the group (losers included) keeps its
    row and feeds the group's published range (``range_min``/``range_max``, ``n_figures``,
    ``year_min``/``year_max``).

:class:`BenchmarkTable` loads the shipped table and answers "which figure applies to this
industry, channel and metric", falling back to the all-industry figure (flagged) when the
industry has none, and suggesting a name when the industry is not known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from simkit._suggest import did_you_mean
from simkit.errors import DataError

__all__ = [
    "ALL_INDUSTRIES",
    "CHANNELS",
    "INDUSTRY_ALIASES",
    "METRICS",
    "SOURCE_TIERS",
    "BenchmarkFigure",
    "BenchmarkTable",
    "channel_of",
    "load_benchmarks",
    "normalise_published",
    "resolve_conflicts",
]

CHANNELS: tuple[str, ...] = ("search", "social", "display")
ALL_INDUSTRIES = "All industries"


@dataclass(frozen=True)
class _Metric:
    name: str
    column: str  # column in the published file
    label: str
    unit: str  # "fraction" or "USD"
    divisor: float  # published value / divisor = simkit value
    higher_is_better: bool


#: The four compared metrics: the published column each comes from, and its unit.
METRICS: dict[str, _Metric] = {
    m.name: m
    for m in (
        _Metric("ctr", "ctr", "click-through rate", "fraction", 100.0, True),
        _Metric("cpc", "avg_cpc_usd", "cost per click", "USD", 1.0, False),
        _Metric("cvr", "conversion_rate", "conversion rate (per click)", "fraction", 100.0, True),
        _Metric("cpa", "cost_per_conversion_usd", "cost per conversion", "USD", 1.0, False),
    )
}

#: Source tiers, best first (rule step 2).  Domains not listed are ``secondary``.
TIER_ORDER: tuple[str, ...] = ("primary", "press", "secondary", "vendor")
SOURCE_TIERS: dict[str, str] = {
    # a domain's sub-domains share its tier (staging.wordstream.com is primary)
    "wordstream.com": "primary",
    "localiq.com": "primary",
    "mediapost.com": "press",
    "marketingcharts.com": "press",
    "searchenginejournal.com": "press",
    "smartinsights.com": "press",
    "superads.ai": "vendor",
    "lebesgue.io": "vendor",
}

#: Platform labels of the published file -> (channel, segment or "" for the whole platform).
#: Unknown labels fall back to :data:`_CHANNEL_KEYWORDS`.
PLATFORM_LABELS: dict[str, tuple[str, str]] = {
    "Google Ads + Microsoft Ads (search)": ("search", ""),
    "Google Ads (search)": ("search", ""),
    "Google AdWords (search)": ("search", ""),
    "Google Ads (search network, US)": ("search", "US only"),
    "Google Ads (display network)": ("display", ""),
    "Google AdWords (display network)": ("display", ""),
    "Facebook Ads": ("social", ""),
    "Facebook Ads (US)": ("social", "US only"),
    "Meta Ads (Lead Gen objective)": ("social", "Lead Gen objective"),
    "Meta Ads (Traffic objective)": ("social", "Traffic objective"),
}

#: Words that name a channel, in the order they are tried (campaign metadata and labels).
_CHANNEL_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("display", "display"),
    ("gdn", "display"),
    ("banner", "display"),
    ("programmatic", "display"),
    ("search", "search"),
    ("sem", "search"),
    ("ppc", "search"),
    ("shopping", "search"),
    ("social", "social"),
    ("facebook", "social"),
    ("meta", "social"),
    ("instagram", "social"),
    ("linkedin", "social"),
    ("tiktok", "social"),
)

#: Industry labels of the published file (and common spellings) -> the one name simkit uses.
#: Only labels that name the same vertical are merged; qualifiers that describe the figure
#: rather than the industry (a vendor's averaging window) are moved to ``note``.
INDUSTRY_ALIASES: dict[str, str] = {
    "All industries (global, Nov 2024-Nov 2025 avg)": ALL_INDUSTRIES,
    "Arts (global, Nov 2024-Nov 2025 avg)": "Arts & Entertainment",
    "Recreation and Travel (global, Nov 2024-Nov 2025 avg)": "Recreation & Travel",
    "Legal": "Attorneys & Legal Services",
    "Auto": "Automotive",
    "Travel & Hospitality": "Travel",
    "Employment Services": "Career & Employment",
    "Employment & Job Training": "Career & Employment",
    "Education & Instruction": "Education",
    "Industrial & Commercial": "Industrial Services",
    "Home Improvement": "Home & Home Improvement",
    "Home and Garden": "Home & Garden",
    "Fitness": "Health & Fitness",
    "Beauty": "Beauty & Personal Care",
    "Shopping, Collectibles & Gifts (General)": "Shopping, Collectibles & Gifts",
    "Lead Generation (all)": "Lead Generation",
    "Food and Drink": "Food & Drink",
    "E-Commerce": "E-commerce",
}

_NOTES: dict[str, str] = {
    "(global, Nov 2024-Nov 2025 avg)": "vendor's global average, Nov 2024 - Nov 2025",
}

#: Caveats from PROVENANCE.md, by source domain, carried into every explanation.
_CAVEATS: dict[str, str] = {
    "stackmatix.com": "this page labels the figure 2026 but it looks like a re-labelled older "
    "WordStream figure",
}

#: Columns of the shipped table, in order.
TABLE_COLUMNS: tuple[str, ...] = (
    "channel",
    "industry",
    "metric",
    "value",
    "unit",
    "year",
    "source",
    "source_domain",
    "source_tier",
    "segment",
    "platform_label",
    "industry_label",
    "note",
    "caveat",
    "source_line",
    "n_metrics_in_row",
    "rank",
    "selected",
    "n_figures",
    "range_min",
    "range_max",
    "year_min",
    "year_max",
)


def _domain(url: str) -> str:
    return urlparse(url).netloc.lower().removeprefix("www.")


def _tier(domain: str) -> str:
    for known, tier in SOURCE_TIERS.items():
        if domain == known or domain.endswith("." + known):
            return tier
    return "secondary"


def channel_of(label: str) -> str | None:
    """Map a platform or channel label to ``search``, ``social`` or ``display``.

    Known labels of the published file map exactly; anything else by the first channel word
    it contains (``"Google Ads (display network)"`` -> display, ``"facebook"`` -> social).
    Returns ``None`` when no channel word is found.
    """
    text = str(label).strip()
    if text in PLATFORM_LABELS:
        return PLATFORM_LABELS[text][0]
    lowered = text.lower()
    if lowered in CHANNELS:
        return lowered
    words = set(re.findall(r"[a-z]+", lowered))
    for word, channel in _CHANNEL_KEYWORDS:
        if word in words:
            return channel
    return None


def _industry_key(name: str) -> str:
    text = str(name).lower().replace(" and ", " & ")
    text = text.replace("ecommerce", "e-commerce")
    return re.sub(r"[^a-z0-9&]+", " ", text).strip()


def normalise_published(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per published figure, in simkit's units and names (pure; no I/O).

    Parameters
    ----------
    raw
        The published file as read (columns ``source, year, platform, industry, ctr,
        avg_cpc_usd, conversion_rate, cost_per_conversion_usd``; ``ctr`` and
        ``conversion_rate`` in percent; blank = not given).

    Returns
    -------
    DataFrame with ``channel, industry, metric, value, unit, year, source, source_domain,
    source_tier, segment, platform_label, industry_label, note, caveat, source_line,
    n_metrics_in_row``.  ``value`` is a fraction for ``ctr``/``cvr`` and USD for
    ``cpc``/``cpa``; ``source_line`` is the 1-based line in the published file (header = 1).

    Raises
    ------
    DataError
        A missing column, a platform label with no channel, a year or figure that is not a
        number, or a negative figure; the error names the line.
    """
    needed = ("source", "year", "platform", "industry") + tuple(m.column for m in METRICS.values())
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise DataError(f"missing column(s): {', '.join(missing)}")
    rows: list[dict[str, Any]] = []
    for position, record in enumerate(raw.to_dict(orient="records")):
        line = position + 2
        platform = str(record["platform"]).strip()
        channel = channel_of(platform)
        if channel is None:
            raise DataError(
                f"platform '{platform}' names no channel (search, social, display)",
                row=line,
                column="platform",
            )
        segment = PLATFORM_LABELS.get(platform, (channel, ""))[1]
        try:
            year = int(record["year"])
        except (TypeError, ValueError):
            raise DataError(
                f"year '{record['year']}' is not a number", row=line, column="year"
            ) from None
        label = str(record["industry"]).strip()
        industry = INDUSTRY_ALIASES.get(label, label)
        note = next((text for key, text in _NOTES.items() if key in label), "")
        source = str(record["source"]).strip()
        domain = _domain(source)
        values: dict[str, float] = {}
        for metric in METRICS.values():
            cell = record[metric.column]
            if cell is None or (isinstance(cell, float) and np.isnan(cell)) or cell == "":
                continue
            try:
                number = float(cell)
            except (TypeError, ValueError):
                raise DataError(
                    f"'{cell}' is not a number", row=line, column=metric.column
                ) from None
            if number < 0:
                raise DataError(f"negative figure {number}", row=line, column=metric.column)
            # via Decimal so that 0.47 % becomes the float nearest 0.0047, not 0.0046999...
            values[metric.name] = float(Decimal(str(number)) / Decimal(str(metric.divisor)))
        for name, value in values.items():
            rows.append(
                {
                    "channel": channel,
                    "industry": industry,
                    "metric": name,
                    "value": value,
                    "unit": METRICS[name].unit,
                    "year": year,
                    "source": source,
                    "source_domain": domain,
                    "source_tier": _tier(domain),
                    "segment": segment,
                    "platform_label": platform,
                    "industry_label": label,
                    "note": note,
                    "caveat": _CAVEATS.get(domain, ""),
                    "source_line": line,
                    "n_metrics_in_row": len(values),
                }
            )
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS[:16]))


def resolve_conflicts(figures: pd.DataFrame) -> pd.DataFrame:
    """Rank the figures of each (channel, industry, metric) by the conflict rule.

    Adds ``rank`` (1 = the figure simkit uses), ``selected``, and the group's published
    range: ``n_figures``, ``range_min``, ``range_max``, ``year_min``, ``year_max``.  No row
    is dropped.  The rule is in the module docstring.

    Examples
    --------
    >>> raw = pd.DataFrame({"source": ["https://a.com/x", "https://www.wordstream.com/y"],
    ...     "year": [2024, 2024], "platform": ["Google Ads (search)"] * 2,
    ...     "industry": ["Travel"] * 2, "ctr": [5.0, 6.0], "avg_cpc_usd": [None, None],
    ...     "conversion_rate": [None, None], "cost_per_conversion_usd": [None, None]})
    >>> resolve_conflicts(normalise_published(raw))[["value", "selected"]].values.tolist()
    [[0.06, True], [0.05, False]]
    """
    frame = figures.copy()
    frame["_tier"] = frame["source_tier"].map({t: i for i, t in enumerate(TIER_ORDER)})
    frame["_segment"] = (frame["segment"] != "").astype(int)
    frame = frame.sort_values(
        [
            "channel",
            "industry",
            "metric",
            "year",
            "_tier",
            "_segment",
            "n_metrics_in_row",
            "source",
            "source_line",
        ],
        ascending=[True, True, True, False, True, True, False, True, True],
        kind="mergesort",
    )
    group = frame.groupby(["channel", "industry", "metric"], sort=False)
    frame["rank"] = group.cumcount() + 1
    frame["selected"] = frame["rank"] == 1
    frame["n_figures"] = group["value"].transform("size")
    frame["range_min"] = group["value"].transform("min")
    frame["range_max"] = group["value"].transform("max")
    frame["year_min"] = group["year"].transform("min")
    frame["year_max"] = group["year"].transform("max")
    return frame.drop(columns=["_tier", "_segment"]).reset_index(drop=True)[list(TABLE_COLUMNS)]


@dataclass(frozen=True)
class BenchmarkFigure:
    """The published figure that applies to one (industry, channel, metric), with its range.

    ``industry`` is the industry the figure is for; it is ``"All industries"`` with
    ``fallback=True`` when the requested industry had no figure for this channel and metric.
    ``alternatives`` lists the other published figures of the group (the losers of the
    conflict rule) as ``(value, year, source)``.
    """

    channel: str
    industry: str
    metric: str
    value: float
    unit: str
    year: int
    source: str
    source_domain: str
    source_tier: str
    segment: str
    caveat: str
    note: str
    range_min: float
    range_max: float
    year_min: int
    year_max: int
    n_figures: int
    fallback: bool
    alternatives: tuple[tuple[float, int, str], ...] = ()

    @property
    def citation(self) -> str:
        """Short plain-words citation: ``"3pdigital.com.au, 2024"``."""
        return f"{self.source_domain}, {self.year}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "industry": self.industry,
            "metric": self.metric,
            "value": self.value,
            "unit": self.unit,
            "year": self.year,
            "source": self.source,
            "source_domain": self.source_domain,
            "source_tier": self.source_tier,
            "segment": self.segment or None,
            "caveat": self.caveat or None,
            "note": self.note or None,
            "range": {
                "min": self.range_min,
                "max": self.range_max,
                "year_min": self.year_min,
                "year_max": self.year_max,
                "n_figures": self.n_figures,
            },
            "fallback_all_industries": self.fallback,
            "alternatives": [{"value": v, "year": y, "source": s} for v, y, s in self.alternatives],
        }


@dataclass(frozen=True)
class IndustryMatch:
    """How a requested industry name was matched: ``industry`` is ``None`` when unknown."""

    requested: str
    industry: str | None
    suggestion: str

    @property
    def known(self) -> bool:
        return self.industry is not None


class BenchmarkTable:
    """The shipped benchmark table with look-ups by industry, channel and metric.

    Parameters
    ----------
    frame
        The table as :func:`resolve_conflicts` returns it (``load_benchmarks`` reads it).
    """

    def __init__(self, frame: pd.DataFrame, *, path: str | None = None) -> None:
        missing = [c for c in TABLE_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(f"benchmark table lacks column(s): {', '.join(missing)}", file=path)
        self.frame = frame
        self.path = path
        keys: dict[str, str] = {}
        for name in frame["industry"].unique():
            keys[_industry_key(name)] = name
        for alias, name in INDUSTRY_ALIASES.items():
            if name in set(frame["industry"]):
                keys.setdefault(_industry_key(alias), name)
        for label, name in zip(frame["industry_label"], frame["industry"], strict=True):
            keys.setdefault(_industry_key(label), name)
        self._keys = keys

    @property
    def industries(self) -> list[str]:
        """Every industry with at least one published figure, sorted."""
        return sorted(self.frame["industry"].unique())

    def match_industry(self, name: str) -> IndustryMatch:
        """Match a name case-insensitively, by simkit's name, an alias or a published label."""
        industry = self._keys.get(_industry_key(name))
        hint = "" if industry else did_you_mean(name, self.industries)
        return IndustryMatch(requested=name, industry=industry, suggestion=hint)

    def figure(self, industry: str, channel: str, metric: str) -> BenchmarkFigure | None:
        """The figure for an industry (falling back to all industries, flagged), or None.

        ``industry`` must be one of :attr:`industries` (see :meth:`match_industry`).
        """
        if metric not in METRICS:
            raise KeyError(f"unknown metric '{metric}'{did_you_mean(metric, METRICS)}")
        for candidate, fallback in ((industry, False), (ALL_INDUSTRIES, True)):
            group = self.frame[
                (self.frame["industry"] == candidate)
                & (self.frame["channel"] == channel)
                & (self.frame["metric"] == metric)
            ].sort_values("rank")
            if len(group):
                return _figure(group, fallback=fallback and industry != ALL_INDUSTRIES)
        return None


def _figure(group: pd.DataFrame, *, fallback: bool) -> BenchmarkFigure:
    top = group.iloc[0]
    rest = group.iloc[1:]
    return BenchmarkFigure(
        channel=str(top["channel"]),
        industry=str(top["industry"]),
        metric=str(top["metric"]),
        value=float(top["value"]),
        unit=str(top["unit"]),
        year=int(top["year"]),
        source=str(top["source"]),
        source_domain=str(top["source_domain"]),
        source_tier=str(top["source_tier"]),
        segment=_text(top["segment"]),
        caveat=_text(top["caveat"]),
        note=_text(top["note"]),
        range_min=float(top["range_min"]),
        range_max=float(top["range_max"]),
        year_min=int(top["year_min"]),
        year_max=int(top["year_max"]),
        n_figures=int(top["n_figures"]),
        fallback=fallback,
        alternatives=tuple(
            (float(v), int(y), str(s))
            for v, y, s in zip(rest["value"], rest["year"], rest["source"], strict=True)
        ),
    )


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


@cache
def _packaged() -> BenchmarkTable:
    ref = resources.files("simkit.market") / "data" / "benchmarks.csv"
    with resources.as_file(ref) as path:
        return _read_table(Path(path))


def _read_table(path: Path) -> BenchmarkTable:
    if not path.is_file():
        raise DataError("benchmark table not found", file=str(path))
    frame = pd.read_csv(
        path,
        keep_default_na=False,
        na_values=[""],
        dtype={"segment": str, "caveat": str, "note": str},
    )
    for column in ("segment", "caveat", "note"):
        frame[column] = frame[column].fillna("")
    frame["selected"] = frame["selected"].astype(str).str.lower().eq("true")
    return BenchmarkTable(frame, path=str(path))


def load_benchmarks(path: str | Path | None = None) -> BenchmarkTable:
    """The benchmark table simkit ships (or one built elsewhere by the same script).

    Examples
    --------
    >>> table = load_benchmarks()
    >>> table.figure("Travel", "search", "ctr").source_domain  # doctest: +SKIP
    '3pdigital.com.au'
    """
    return _packaged() if path is None else _read_table(Path(path))
