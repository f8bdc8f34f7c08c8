"""Where simkit's non-Python resources are: the notebooks, the templates, the sample data.

This module is the only place that knows.  ``notebooks/``, ``templates/`` and ``share/``
live at the top of the repository; the build (``setup.py``) copies them into the wheel as
``simkit/_bundled/<name>/``, read here with :mod:`importlib.resources`.  An editable
install or a checkout on ``PYTHONPATH`` has no ``_bundled`` folder: the folders are then
read from the checkout that holds this package (recognised by its ``pyproject.toml``).

Voila, Papermill and nbconvert need real paths, so a package imported from a zip file is
not supported (an error says so).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

from simkit.errors import SimkitError

__all__ = ["ResourceDir", "dashboard_sample", "notebook", "resource_dir"]

ResourceDir = Literal["notebooks", "templates", "share"]
_BUNDLED = "_bundled"


def _as_path(traversable: object, what: str) -> Path:
    if not isinstance(traversable, Path):
        raise SimkitError(
            f"simkit's {what} must be files on disk; this copy of simkit is not "
            f"({traversable!r}): install simkit as a regular (unzipped) package"
        )
    return traversable


def resource_dir(name: ResourceDir) -> Path:
    """The folder ``notebooks``, ``templates`` or ``share``: installed copy first, else the
    checkout (editable install).

    Raises
    ------
    SimkitError
        If neither exists (a broken installation), naming both places looked in.
    """
    package = _as_path(files("simkit"), "resources")
    bundled = package / _BUNDLED / name
    if bundled.is_dir():
        return bundled
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return checkout / name
    raise SimkitError(
        f"simkit's {name} folder is missing: looked in {bundled} (installed package) and "
        f"{checkout / name} (checkout); reinstall simkit"
    )


def notebook(filename: str) -> Path:
    """A notebook shipped with simkit, e.g. ``notebook("campaign_report.ipynb")``."""
    path = resource_dir("notebooks") / filename
    if not path.is_file():
        raise SimkitError(f"simkit's notebook {filename} is missing from {path.parent}")
    return path


def dashboard_sample() -> Path:
    """The small sample data (three campaigns, with metadata) the dashboard shows by default.

    It is package data (``simkit/dashboard/sample/campaigns.csv``), so it ships
    in every installation; the tests use it too.
    """
    return _as_path(files("simkit") / "dashboard" / "sample" / "campaigns.csv", "sample data")
