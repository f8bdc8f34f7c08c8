"""The mutation score per file from mutmut's results in ``mutants/`` (``make mutation``).

``mutmut results`` lists the mutants that were not killed, one a line; this counts them per
file.  *checked* is every mutant a test ran against (killed, timeout, survived,
suspicious); the score is ``(killed + timeout) / checked``, and ``of all`` divides by every
mutant instead (the lower bound while some are not checked yet, or have no test).

    python scripts/mutation_score.py [mutants]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

COLUMNS = ("killed", "timeout", "survived", "suspicious", "no tests", "not checked")
#: mutmut's other statuses, folded into the columns (anything else, such as a segfault, is
#: suspicious: a mutant that broke the run without failing a test)
_FOLD = {
    "caught by type check": "killed",
    "skipped": "no tests",
    "check was interrupted by user": "not checked",
}


def _status_by_exit_code():  # noqa: ANN202 - mutmut's own mapping, a defaultdict
    try:
        from mutmut.stats import status_by_exit_code
    except ImportError:
        sys.exit("mutation_score: mutmut (>=3, the dev extra) is not installed in this Python")
    return status_by_exit_code


def file_counts(meta: Path, status_by_exit_code: dict) -> Counter:
    """Mutants of one source file by status, from its ``.meta`` (mutmut's JSON)."""
    try:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
    except (OSError, ValueError, KeyError) as exc:
        sys.exit(f"mutation_score: {meta}: not a mutmut result file ({exc})")
    counts = Counter()
    for code in codes.values():
        status = _FOLD.get(status_by_exit_code[code], status_by_exit_code[code])
        counts[status if status in COLUMNS else "suspicious"] += 1
    return counts


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "mutants")
    metas = sorted(root.rglob("*.py.meta"))
    if not metas:
        print(f"mutation_score: no mutmut results under {root}/ (run `make mutation` first)")
        return 1
    status_by_exit_code = _status_by_exit_code()
    header = f"{'file':34} {'total':>6} " + " ".join(f"{c:>11}" for c in COLUMNS)
    print(header + f" {'score':>7} {'of all':>7}")
    grand = Counter()
    for meta in metas:
        counts = file_counts(meta, status_by_exit_code)
        grand += counts
        _row(str(meta.relative_to(root))[: -len(".meta")], counts)
    if len(metas) > 1:
        _row("all", grand)
    return 0


def _row(name: str, counts: Counter) -> None:
    total = sum(counts.values())
    killed = counts["killed"] + counts["timeout"]
    checked = killed + counts["survived"] + counts["suspicious"]
    score = f"{100 * killed / checked:6.1f}%" if checked else "      -"
    of_all = f"{100 * killed / total:6.1f}%" if total else "      -"
    cells = " ".join(f"{counts[c]:>11}" for c in COLUMNS)
    print(f"{name:34} {total:>6} {cells} {score:>7} {of_all:>7}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
