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
