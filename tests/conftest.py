from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"


def _shared_data_dir() -> Path | None:
    for candidate in (
        os.environ.get("SIMKIT_SHARED_DATA"),
        REPO.parent / "shared" / "data",
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder (../shared/data); skips the test when it is absent."""
    path = _shared_data_dir()
    if path is None:
        pytest.skip("../shared/data is absent (set SIMKIT_SHARED_DATA to its path to run this)")
    return path


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


# -- the shape table (issue 23): which data each campaign-data test runs on ---------------
# `pytest --collect-only -q --shape-table` prints how many collected tests run on each data
# shape.  A test is classified by what it and the fixtures it uses read: the `shape`
# parameter of tests/shapes, the real files (`shared_data`), family B (`worlds.generate`),
# family A (the project's generator, `generate(`/`dashboard_sample`/frozen runs), the small
# hand-written files in tests/data, or no campaign data.  It reads source text, so it is a
# census, not a proof: the categories are checked in this order and the first match wins.
_SHAPE_PATTERNS = (
    ("real files in ../shared/data", ("shared_data",)),
    ("family B (simkit.data.worlds)", ("worlds.generate", "FAMILIES")),
    (
        "family A (simkit.data.synthetic)",
        (
            "generate(",
            "generate_synthetic",
            "dashboard_sample",
            "SyntheticData",
            '"generate"',
            "world",
            "portfolio",
            "published",
            "load(DATA",
            "frozen",
        ),
    ),
    ("hand-written files in tests/data", ("test_data", "TEST_DATA", "tests/data")),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shape-table",
        action="store_true",
        help="after collection, print how many tests run on each data shape",
    )


def _sources(item: pytest.Item) -> str:
    import inspect

    texts, seen = [], set()
    funcs = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for defs in info.name2fixturedefs.values() if info else ():
        funcs.extend(d.func for d in defs)
    for func in funcs:
        if func is None or func in seen:
            continue
        seen.add(func)
        try:
            texts.append(inspect.getsource(func))
        except (OSError, TypeError):
            continue
    names = " ".join(getattr(item, "fixturenames", ()))
    return names + "\n" + "\n".join(texts)


def _shape_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "shape" in callspec.params and "shapes" in item.path.parts:
        return f"shape: {callspec.params['shape']}"
    text = _sources(item)
    for label, needles in _SHAPE_PATTERNS:
        if any(n in text for n in needles):
            return label
    return "no campaign data, or frames built in the test"


def pytest_collection_finish(session: pytest.Session) -> None:
    if not session.config.getoption("--shape-table"):
        return
    from collections import Counter

    counts = Counter(_shape_of(item) for item in session.items)
    data_tests = sum(n for label, n in counts.items() if not label.startswith("no campaign data"))
    lines = ["", "tests per data shape", f"{'shape':<44} {'tests':>6} {'share':>7}"]
    for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        share = "" if label.startswith("no campaign data") else f"{n / data_tests:6.1%}"
        lines.append(f"{label:<44} {n:>6} {share:>7}")
    lines.append(f"{'campaign-data tests':<44} {data_tests:>6}")
    print("\n".join(lines))
