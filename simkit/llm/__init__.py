"""A language model in the loop, kept on a short leash (issue 18).

simkit asks a model for *assumptions* in the engine's own terms and for a summary
paragraph; simkit does every number.  This package holds what any layer above may use:

* :mod:`~simkit.llm.client`: the one client (official ``openai`` SDK, Chat Completions with
  structured outputs), with timeout, retries, ``Retry-After``, a run deadline, rate limits,
  the reply cache and token accounting;
* :mod:`~simkit.llm.schemas`: the replies' pydantic shapes;
* :mod:`~simkit.llm.assumptions`: bounds and dates checked, clipped or refused, said so;
* :mod:`~simkit.llm.grounding`: every number of a text checked against the facts sent;
* :mod:`~simkit.llm.prompts`: the exact messages, from named allowlists of facts;
* :mod:`~simkit.llm.usage`: tokens and cost, in one place;
* :mod:`~simkit.llm.session`: the settings a forecast member reads while a report runs.

Offline by default: nothing here is called unless params say ``llm: true`` or
``llm_member: true``, and without ``OPENAI_API_KEY`` every caller falls back and says so.
"""

from __future__ import annotations

from simkit.llm.assumptions import (
    SHIFT_BOUNDS,
    AssumptionCheck,
    CheckedAssumption,
    check_assumptions,
)
from simkit.llm.cache import DiskReplyCache, NoCache, ReplyCache, cache_key
from simkit.llm.client import Deadline, LLMClient, LLMError, LLMReply, has_api_key
from simkit.llm.grounding import Grounding, check_grounded
from simkit.llm.prompts import member_messages, narrative_messages, scenario_messages
from simkit.llm.schemas import (
    DriverDay,
    DriverReply,
    NarrativeReply,
    ScenarioAssumption,
    ScenarioReply,
    Shift,
)
from simkit.llm.session import current_client, llm_session
from simkit.llm.usage import Usage, total_usage

__all__ = [
    "SHIFT_BOUNDS",
    "AssumptionCheck",
    "CheckedAssumption",
    "Deadline",
    "DiskReplyCache",
    "DriverDay",
    "DriverReply",
    "Grounding",
    "LLMClient",
    "LLMError",
    "LLMReply",
    "NarrativeReply",
    "NoCache",
    "ReplyCache",
    "ScenarioAssumption",
    "ScenarioReply",
    "Shift",
    "Usage",
    "cache_key",
    "check_assumptions",
    "check_grounded",
    "current_client",
    "has_api_key",
    "llm_session",
    "member_messages",
    "narrative_messages",
    "scenario_messages",
    "total_usage",
]
