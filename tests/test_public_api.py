"""The public API: every name in __all__ resolves, and importing simkit stays light."""

from __future__ import annotations

import subprocess
import sys

import simkit


def test_every_public_name_resolves():
    for name in simkit.__all__:
        assert getattr(simkit, name) is not None, name


def test_import_does_not_load_the_engines():
    code = (
        "import sys, simkit; heavy = [m for m in ('prophet', 'torch', 'statsmodels', "
        "'simkit.forecast', 'simkit.pivots', 'altair') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_engine_subpackages_load_on_attribute_access():
    code = "import simkit; print(simkit.forecast.Member.__name__, simkit.viz.what_if_explorer.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Member", "what_if_explorer"]


def test_import_does_not_load_pandas_or_numpy():
    # every `simkit.<module>` import runs simkit/__init__.py first: `simkit runs list` and
    # `simkit --help` stay fast only if it loads neither (issue 21)
    code = (
        "import sys, simkit, simkit.errors; print([m for m in ('pandas', 'numpy', 'pydantic', "
        "'simkit.data', 'simkit.params') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_are_the_modules_own():
    from simkit.data import load
    from simkit.data.synthetic import generate
    from simkit.params import load_params

    assert simkit.load is load
    assert simkit.generate_synthetic is generate
    assert simkit.load_params is load_params
    assert "generate_synthetic" in dir(simkit)
