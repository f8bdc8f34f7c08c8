"""Where a run writes: every file and folder of an output folder, named by :func:`safe_name`.

::

    output_dir/
      index.html  run.json  pivots.json      the run's index, manifest and pivots
      .simkit.lock                           held while a run writes here
      <safe name>/report.html, report.ipynb, summary.json
      _portfolio/                            the executed portfolio notebook
      .staging/<run id>/<safe name>/         a report being written (moved into place whole)
      .failed/<safe name>/report.ipynb       a failed campaign's notebook, for debugging

A safe name always ends in ``-`` and eight hex digits and never starts with ``.`` or
``_``, so no campaign can take the name of a fixed file or folder above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from simkit.errors import SimkitError
from simkit.paths import ensure_inside, safe_name

__all__ = ["FAILED", "LOCK", "PORTFOLIO", "STAGING", "RunLayout", "campaign_folders"]

STAGING = ".staging"
FAILED = ".failed"
PORTFOLIO = "_portfolio"
LOCK = ".simkit.lock"
_RUN_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")


def campaign_folders(campaign_ids: list[str]) -> dict[str, str]:
    """Each id's folder name; an error if two distinct ids would share one.

    Folder names are compared case-folded, as a case-insensitive filesystem (macOS,
    Windows) would; with an eight-digit hash a clash is a one-in-four-billion accident,
    but it is refused rather than silently merging two campaigns' reports.
    """
    names: dict[str, str] = {}
    seen: dict[str, str] = {}
    for cid in campaign_ids:
        name = safe_name(cid)
        other = seen.setdefault(name.casefold(), cid)
        if other != cid:
            raise SimkitError(
                f"campaigns {other!r} and {cid!r} would share the folder {name!r}; rename one"
            )
        names[cid] = name
    return names


@dataclass(frozen=True)
class RunLayout:
    """The paths of one run in ``output_dir`` (resolved), each checked to lie inside it."""

    output_dir: Path
    run_id: str

    def __post_init__(self) -> None:
        if not _RUN_ID.match(self.run_id):
            raise SimkitError(f"not a run id: {self.run_id!r}")
        object.__setattr__(self, "output_dir", Path(self.output_dir).resolve())

    def inside(self, path: Path) -> Path:
        """``path`` if it lies inside the output folder (symlinks resolved), else an error."""
        ensure_inside(self.output_dir, path)
        return path

    def campaign_dir(self, campaign_id: str) -> Path:
        return self.inside(self.output_dir / safe_name(campaign_id))

    def report_link(self, campaign_id: str) -> str:
        """The index's link to a campaign's report (relative to the output folder)."""
        return f"{safe_name(campaign_id)}/report.html"

    def summary_link(self, campaign_id: str) -> str:
        """The index's link to a campaign's ``summary.json`` (relative to the output folder)."""
        return f"{safe_name(campaign_id)}/summary.json"

    @property
    def staging_root(self) -> Path:
        return self.inside(self.output_dir / STAGING / self.run_id)

    def staging_dir(self, campaign_id: str) -> Path:
        return self.inside(self.staging_root / safe_name(campaign_id))

    def failed_dir(self, campaign_id: str) -> Path:
        return self.inside(self.output_dir / FAILED / safe_name(campaign_id))

    @property
    def portfolio_dir(self) -> Path:
        return self.inside(self.output_dir / PORTFOLIO)

    @property
    def portfolio_staging(self) -> Path:
        return self.inside(self.staging_root / PORTFOLIO)

    @property
    def lock_file(self) -> Path:
        return self.inside(self.output_dir / LOCK)

    def campaign_files(self, campaign_id: str) -> list[Path]:
        """Every file a campaign's report may be written to, in any state."""
        names = ("report.html", "report.ipynb", "summary.json")
        folders = (
            self.campaign_dir(campaign_id),
            self.staging_dir(campaign_id),
            self.failed_dir(campaign_id),
        )
        return [self.inside(folder / name) for folder in folders for name in names]
