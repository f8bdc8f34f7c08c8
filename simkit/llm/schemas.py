"""The replies simkit asks a model for, as pydantic models (structured outputs).

These are the *wire* shapes: frozen, ``extra="forbid"`` (an unknown field breaks the
schema and the whole reply is refused), typed, and deliberately without numeric bounds,
so that a reply whose numbers are out of range still parses and simkit can say which
assumption it clipped or refused, and why (:mod:`simkit.llm.assumptions`).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DriverDay",
    "DriverReply",
    "NarrativeReply",
    "ScenarioAssumption",
    "ScenarioReply",
    "Shift",
]

_WIRE = ConfigDict(frozen=True, extra="forbid")


class Shift(BaseModel):
    """A relative change and its 80% range: ``0.1`` is +10%, ``-0.2`` is -20%."""

    model_config = _WIRE

    low: float = Field(description="the low end of the 80% range, as a fraction (-0.1 = -10%)")
    high: float = Field(description="the high end of the 80% range, as a fraction")


class ScenarioAssumption(BaseModel):
    """Something that could happen to the campaign, in the engine's terms.

    Every shift is relative to the baseline forecast on the days from ``start`` to
    ``end`` (inclusive); ``null`` is no change.  ``demand`` is the audience's purchase
    intent at the same spend (it moves CTR and CVR together); ``spend`` is a change of the
    plan's budget on those days.
    """

    model_config = _WIRE

    name: str = Field(description="a short name, such as 'Competitor promotion week'")
    rationale: str = Field(description="why this could happen, in one or two sentences")
    start: date = Field(description="first day affected, YYYY-MM-DD")
    end: date = Field(description="last day affected, YYYY-MM-DD")
    cpm: Shift | None
    ctr: Shift | None
    cvr: Shift | None
    demand: Shift | None
    spend: Shift | None


class ScenarioReply(BaseModel):
    """Two to five assumptions."""

    model_config = _WIRE

    assumptions: list[ScenarioAssumption]


class NarrativeReply(BaseModel):
    """The report's summary paragraph."""

    model_config = _WIRE

    paragraph: str = Field(description="three to six sentences, numbers only from the context")


class DriverDay(BaseModel):
    """One day's predicted funnel rates."""

    model_config = _WIRE

    date: date
    cpm: float = Field(description="cost per thousand impressions")
    ctr: float = Field(description="clicks per impression, a fraction")
    cvr: float = Field(description="conversions per click, a fraction")
    revenue_per_conversion: float


class DriverReply(BaseModel):
    """Daily predictions over the horizon, one entry per day in order."""

    model_config = _WIRE

    days: list[DriverDay]
