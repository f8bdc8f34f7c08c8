"""The dashboard's fast fixtures (tests/dashboard/conftest.py), for the injection tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from simkit.data import load

_spec = importlib.util.spec_from_file_location(
    "_dashboard_fixtures", Path(__file__).parents[1] / "dashboard" / "conftest.py"
)
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)


@pytest.fixture(scope="session")
def loaded():  # noqa: ANN201
    return load(_fixtures.DATA)


@pytest.fixture()
def forecaster():  # noqa: ANN201
    return _fixtures.CountingForecaster()
