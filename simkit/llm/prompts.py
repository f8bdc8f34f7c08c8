"""The exact messages simkit sends, built from named allowlists of computed facts.

What leaves the machine is a campaign's *aggregates* only: the fields of
:data:`SCENARIO_FIELDS`, :data:`NARRATIVE_FIELDS` and :data:`MEMBER_FIELDS`, by name.  A fact
outside its allowlist is refused (:class:`ValueError`), so a new field is sent only when
it is added here, where a reviewer sees it.  Raw rows, file paths, parameters and keys are
never among them.  ``simkit llm prompt CAMPAIGN`` prints these messages.

The facts are serialised as sorted JSON, so identical facts give identical messages (and
hit the reply cache).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from simkit.llm.assumptions import MAX_ASSUMPTIONS, MIN_ASSUMPTIONS, SHIFT_BOUNDS

__all__ = [
    "MEMBER_FIELDS",
    "NARRATIVE_FIELDS",
    "SCENARIO_FIELDS",
    "member_messages",
    "narrative_messages",
    "scenario_messages",
]

_RECENT = tuple(
    f"recent.{m}"
    for m in (
        "days",
        "spend",
        "impressions",
        "clicks",
        "conversions",
        "revenue",
        "cpm",
        "ctr",
        "cvr",
        "cpa",
        "roas",
    )
)
_FORECAST = tuple(
    f"forecast.{m}.{q}"
    for m in ("conversions", "spend", "revenue", "cpa", "roas")
    for q in ("p10", "p50", "p90")
)
_CAMPAIGN = ("campaign_id", "channel", "industry", "objective", "currency")

#: Facts a scenario prompt may hold.
SCENARIO_FIELDS: tuple[str, ...] = (
    *_CAMPAIGN,
    "as_of",
    "horizon_start",
    "horizon_end",
    "horizon_days",
    *_RECENT,
    "weekly",
    *_FORECAST,
    "top_risk",
    "top_risk.probability",
)
#: Facts a narrative prompt may hold (every number the paragraph may use).
NARRATIVE_FIELDS: tuple[str, ...] = (
    *_CAMPAIGN,
    "campaign_name",
    "horizon_days",
    "interval_level",
    "quality_score",
    *_RECENT,
    *_FORECAST,
    "probabilities",
    "top_risk",
    "top_risk.probability",
    "best_pivot",
    "best_pivot.conversions.p10",
    "best_pivot.conversions.p50",
    "best_pivot.conversions.p90",
    "best_pivot.confidence",
    "model_scenarios",
)
#: Facts the forecast member's prompt may hold.
MEMBER_FIELDS: tuple[str, ...] = (
    "history_days",
    "weekly_means",
    "last_14_days",
    "horizon_dates",
    "planned_spend",
    "recent_spend",
)


def _facts(facts: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> str:
    extra = sorted(set(facts) - set(allowed))
    if extra:
        raise ValueError(f"{what} prompt: fact(s) not in the allowlist: {', '.join(extra)}")
    kept = {k: v for k, v in facts.items() if v is not None}
    return json.dumps(kept, sort_keys=True, indent=1, ensure_ascii=False, default=str)


def _bounds() -> str:
    return "; ".join(f"{k} {lo:+.0%} to {hi:+.0%}" for k, (lo, hi) in SHIFT_BOUNDS.items())


def scenario_messages(facts: Mapping[str, Any]) -> list[dict[str, str]]:
    """Messages asking for 2-5 scenario assumptions about the campaign's horizon."""
    system = (
        "You are a senior performance-marketing analyst. You name things that could happen "
        "to an advertising campaign over its forecast horizon: competitor promotions, "
        "holiday or seasonal surges, creative fatigue, tracking changes, budget changes. "
        "You never compute outcomes: simkit simulates each assumption you give and does "
        "every calculation. "
        f"Return {MIN_ASSUMPTIONS} to {MAX_ASSUMPTIONS} assumptions. Each has a name, a "
        "short rationale grounded in the facts, a start and end date inside the horizon "
        "(YYYY-MM-DD), and for each of cpm, ctr, cvr, demand and spend either null (no "
        "change) or a relative change range {low, high} as fractions (0.1 = +10%) that is "
        "an 80% range. demand is purchase intent at the same spend; spend changes the "
        f"budget. Allowed ranges: {_bounds()}."
    )
    user = "Campaign facts computed by simkit (JSON):\n" + _facts(
        facts, SCENARIO_FIELDS, "scenario"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def narrative_messages(facts: Mapping[str, Any]) -> list[dict[str, str]]:
    """Messages asking for the report's summary paragraph from the computed facts."""
    system = (
        "You write the summary paragraph of a campaign performance report for a marketing "
        "stakeholder: three to six plain sentences on where the campaign is heading, its "
        "main risk, the best pivot, and the scenarios. Use ONLY numbers that appear in the "
        "facts, written as they are or rounded (1,234 or 1.2k; 0.43 as 43%; money as "
        "$3.40), or a difference or percentage change of two facts of the same metric. "
        "Write no other number: no counts, no ordinals in digits, no dates except those in "
        "the facts. Every number you write is checked; a paragraph with a number that is "
        "not in the facts is discarded."
    )
    user = "Facts computed by simkit (JSON):\n" + _facts(facts, NARRATIVE_FIELDS, "narrative")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def member_messages(facts: Mapping[str, Any]) -> list[dict[str, str]]:
    """Messages asking for daily predictions of the funnel rates over the horizon."""
    system = (
        "You forecast an advertising campaign's daily funnel rates. Given a summary of its "
        "recent history and the planned daily spend, return one entry per horizon date, in "
        "order, with cpm (cost per thousand impressions), ctr (clicks per impression, a "
        "fraction), cvr (conversions per click, a fraction) and revenue_per_conversion. "
        "Keep weekly patterns you see in the history."
    )
    user = "History and plan (JSON):\n" + _facts(facts, MEMBER_FIELDS, "member")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
