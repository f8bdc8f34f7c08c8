"""Build hook: map the top-level ``notebooks/``, ``templates/`` and ``share/`` into the wheel.

They stay at the top of the repository (where people edit and review them) and are copied
at build time to ``simkit/_bundled/<name>/`` in the built package, where
:mod:`simkit._resources` finds them with :mod:`importlib.resources`.  An editable install
(``pip install -e .``) copies nothing: there :mod:`simkit._resources` reads the checkout.
Everything else about the build is in ``pyproject.toml``.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: top-level folders shipped as package resources (keep in step with simkit/_resources.py)
RESOURCE_DIRS = ("notebooks", "templates", "share")
_SKIP = {"__pycache__", ".ipynb_checkpoints"}


class BuildWithResources(build_py):
    """``build_py`` that also copies the resource folders into ``simkit/_bundled``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "simkit" / "_bundled"
        for name in RESOURCE_DIRS:
            source = ROOT / name
            if not source.is_dir():
                raise FileNotFoundError(f"resource folder {source} is missing from the source tree")
            for path in sorted(source.rglob("*")):
                if path.is_file() and not _SKIP.intersection(path.relative_to(ROOT).parts):
                    dest = target / path.relative_to(ROOT)
                    self.mkpath(str(dest.parent))
                    self.copy_file(str(path), str(dest))


setup(cmdclass={"build_py": BuildWithResources})
