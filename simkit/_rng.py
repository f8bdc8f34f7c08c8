"""The one way simkit turns a seed into a generator.

The convention (README, "Python API"): public entry points take ``seed: int``
(keyword-only) and make their generators here; the stochastic functions below them take
``rng: np.random.Generator``.  Kept in a module of its own, below every engine, so the
engines can use it without importing the package's ``__init__``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_rng"]


def make_rng(seed: int, *keys: int) -> np.random.Generator:
    """A PCG64 generator for ``seed``, or for the stream ``(seed, *keys)``.

    ``make_rng(seed)`` equals ``np.random.default_rng(seed)``; extra integer ``keys`` name
    an independent stream of the same seed (``SeedSequence([seed, *keys])``).

    >>> bool(make_rng(7).integers(0, 100) == np.random.default_rng(7).integers(0, 100))
    True
    """
    if not keys:
        return np.random.default_rng(int(seed))
    return np.random.default_rng(np.random.SeedSequence([int(seed), *(int(k) for k in keys)]))
