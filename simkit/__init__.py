"""simkit: see where advertising campaigns are heading, what can go wrong, and which pivot
pays, before the money moves.

The public API is what ``__all__`` lists; notebooks import only these names.
"""

from __future__ import annotations

import numpy as np

from simkit.data import LoadedData, load, load_mapping, validate
from simkit.data.synthetic import generate as generate_synthetic
from simkit.errors import DataError, ForecastError, ParamsError, SimkitError
from simkit.params import RunParams, load_params

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "ForecastError",
    "LoadedData",
    "ParamsError",
    "RunParams",
    "SimkitError",
    "__version__",
    "generate_synthetic",
    "load",
    "load_mapping",
    "load_params",
    "make_rng",
    "validate",
]


def make_rng(seed: int) -> np.random.Generator:
    """The one way simkit turns a seed into a generator (PCG64 via ``default_rng``)."""
    return np.random.default_rng(seed)
