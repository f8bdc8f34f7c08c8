"""Token usage and cost of the model calls of one report or run: the one place they are kept.

A :class:`Usage` counts what a client did (requests sent, cache hits and misses, failures,
tokens, dollars); reports write it to ``summary.json`` (``llm.usage``), the runner adds the
campaigns' together into ``run.json`` and the run registry.  Nothing else counts tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["Usage", "total_usage"]


@dataclass
class Usage:
    """Counters of model calls (mutable: a client adds to it as it goes).

    Attributes
    ----------
    requests
        Calls sent to the server (a call the SDK retried counts once).
    cache_hits, cache_misses
        Calls answered from the on-disk cache / not found there.
    failures
        Calls that ended in an error (no key, server error, timeout, bad reply...).
    prompt_tokens, completion_tokens
        As the server's ``usage`` reports them.
    cost_usd
        Tokens times the price table; ``None`` parts are counted in ``unpriced_tokens``.
    models
        The models that answered.
    """

    requests: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_tokens: int = 0
    models: list[str] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add_model(self, model: str) -> None:
        if model and model not in self.models:
            self.models.append(model)

    def merge(self, other: Usage) -> Usage:
        """Add ``other``'s counts to these (returns ``self``)."""
        for f in fields(self):
            if f.name == "models":
                for m in other.models:
                    self.add_model(m)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["total_tokens"] = self.total_tokens
        out["cost_usd"] = round(self.cost_usd, 6)
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> Usage:
        """A :class:`Usage` from :meth:`to_dict`'s output (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        values = values or {}
        return cls(**{k: v for k, v in values.items() if k in names})


def total_usage(parts: Iterable[Mapping[str, Any] | None]) -> Usage:
    """The sum of several :meth:`Usage.to_dict` records (``None`` ones skipped)."""
    total = Usage()
    for part in parts:
        if part:
            total.merge(Usage.from_dict(part))
    return total
