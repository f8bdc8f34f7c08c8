"""Build simkit's benchmark table from the published figures.

Reads ``../shared/data/benchmarks/industry_benchmarks.csv`` (see PROVENANCE.md section 4),
normalises it and applies the conflict rule (both in :mod:`simkit.market.benchmarks`), and
writes ``simkit/market/data/benchmarks.csv``: one row per published figure, every row with
its source address, year and original labels, the selected figure of each
(channel, industry, metric) marked, and the published range of its group.

Usage::

    .venv/bin/python scripts/build_benchmarks.py [--source PATH] [--output PATH]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from simkit.market.benchmarks import normalise_published, resolve_conflicts

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "benchmarks" / "industry_benchmarks.csv"
DEFAULT_OUTPUT = REPO / "simkit" / "market" / "data" / "benchmarks.csv"

log = logging.getLogger("build_benchmarks")


def build(source: Path, output: Path) -> pd.DataFrame:
    """Normalise and resolve ``source``; write the table to ``output`` and return it."""
    raw = pd.read_csv(source, dtype={"source": str, "platform": str, "industry": str})
    table = resolve_conflicts(normalise_published(raw))
    output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(output, index=False, lineterminator="\n")  # shortest round-trip floats
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    table = build(args.source, args.output)
    n_groups = int(table["selected"].sum())
    n_conflicts = int(
        (table["n_figures"] > 1)
        .groupby([table["channel"], table["industry"], table["metric"]])
        .first()
        .sum()
    )
    log.info(
        "wrote %s: %d figures from %d source rows, %d (channel, industry, metric) groups, "
        "%d with more than one figure",
        args.output,
        len(table),
        table["source_line"].nunique(),
        n_groups,
        n_conflicts,
    )


if __name__ == "__main__":
    main()
