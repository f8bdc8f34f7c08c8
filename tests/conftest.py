from __future__ import annotations

import functools
import os
import re
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


# --- Postgres and Redis for the tests that run on real servers (issue 21) ----------------
# ``.ci/run`` starts throwaway servers and exports SIMKIT_TEST_POSTGRES_URL and
# SIMKIT_TEST_REDIS_URL.  Without them, the fixtures below start their own from Debian's
# binaries when these are installed, and skip with the reason otherwise.

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    """Postgres refuses to run as root: run it as the Debian package's ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_server():
    """A Postgres server URL (``postgresql+psycopg://...``, its ``postgres`` database)."""
    import shutil
    import subprocess
    import tempfile

    url = os.environ.get("SIMKIT_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if not (POSTGRES_BIN / "initdb").is_file():
        pytest.skip(
            "no Postgres: set SIMKIT_TEST_POSTGRES_URL (.ci/run does) or install Debian's "
            "postgresql"
        )
    folder = Path(tempfile.mkdtemp(prefix="simkit-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    run = {"check": True, "capture_output": True}
    subprocess.run(
        _as_server_user(
            [str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "simkit", "-A", "trust"]
            + ["-E", "UTF8", "--no-sync"]
        ),
        **run,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "log")]
    subprocess.run(_as_server_user([*pg_ctl, "-o", options, "-w", "start"]), **run)
    try:
        yield f"postgresql+psycopg://simkit@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([*pg_ctl, "-m", "immediate", "stop"]), check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def postgres_db(postgres_server: str):
    """A new, empty database on the test server (dropped afterwards)."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(postgres_server)
    name = f"simkit_test_{uuid.uuid4().hex[:10]}"
    params = {
        "host": server.host,
        "port": server.port,
        "user": server.username,
        "password": server.password,
        "dbname": server.database or "postgres",
    }
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh registry database URL, once on SQLite and once on Postgres (skipped, with
    the reason, where no Postgres is available)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'registry.sqlite'}"
    return request.getfixturevalue("postgres_db")


def _start_redis(folder: Path) -> tuple[str, object]:
    import subprocess
    import time

    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(folder), "--maxmemory", "64mb"]
        + ["--maxmemory-policy", "allkeys-lru"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    return f"redis://127.0.0.1:{port}/0", proc


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    """A redis-server URL: SIMKIT_TEST_REDIS_URL (.ci/run), else one started here."""
    import shutil

    url = os.environ.get("SIMKIT_TEST_REDIS_URL")
    if url:
        yield url
        return
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server: set SIMKIT_TEST_REDIS_URL (.ci/run does) or install it")
    url, proc = _start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture()
def redis_url(redis_server: str) -> str:
    """The test Redis, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server


@pytest.fixture()
def own_redis(tmp_path: Path):
    """A redis-server of this test's own (it may stop it): ``(url, process)``."""
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server installed (apt-get install redis-server)")
    url, proc = _start_redis(tmp_path)
    try:
        yield url, proc
    finally:
        proc.kill()
        proc.wait(10)


# -- the shape table (issue 23): which data each campaign-data test runs on ---------------
# `pytest --collect-only -q --shape-table` prints how many collected tests run on each data
# shape.  It is a census of the test sources, not a proof: a test is classified by the text
# of its function (decorators included), of every fixture it uses (transitively) and of the
# helper functions, classes and module constants of tests/ that those name (transitively),
# checked in this order, first match wins:
#   1. a fixture `shape` parametrised by shape names (tests/shapes, and tests elsewhere
#      run on more than one shape, e.g. tests/report/test_handoff.py);
#   2. a test parametrised over `FAMILIES` (simkit.data.worlds): its family, "a" or "b";
#   3. the real files (`shared_data`);
#   4. family B (`worlds.generate`, `FAMILIES`);
#   5. family A, the project's generator (simkit.data.synthetic), or files it wrote and that
#      are committed (tests/data/report, its frozen run, tests/data/ledger, the auction
#      campaign, the dashboard sample, the report notebooks' defaults run by nbval).
#      Family A is "with full metadata" when its campaign metadata reaches the code under
#      test -- a sidecar written by `SyntheticData.write` (or `simkit generate`), a committed
#      file that has one (tests/data/report/campaigns.csv and its frozen run, the dashboard
#      sample, the report notebooks' defaults), `metadata=`, `campaign_meta`, `_meta.yaml|csv`,
#      or the metadata table (`world.campaigns`, `loaded.campaigns`,
#      `compare_campaigns(world)`) -- and no `creative_id` or `budget` column is dropped.
#      Otherwise (frames from `.data`, a committed file read with `read_csv` or copied
#      without its sidecar, a dropped column) it is "no metadata/creative_id/budget";
#   6. the small hand-written files in tests/data (imports, mappings);
#   7. no campaign data, or frames built in the test.
#: family A: the generator, `simkit generate` into a folder, fixtures built on it, and the
#: committed files it wrote
_FAMILY_A = re.compile(
    r"generate\(|generate_synthetic\(|SyntheticData|\"generate\",\s*(str\(|\"data\")|world|"
    r"(?<![\w.])(portfolio|published)\b|dashboard_sample|sample_data\(|load\(DATA|--nbval|"
    r'"report" / "campaigns\.csv"|"report" / "run"|freeze_report_run|'
    r'"ledger" / "campaigns\.csv"|auction_campaign\.csv'
)
FAMILY_B = "family B (simkit.data.worlds)"
_SHAPE_PATTERNS = (
    ("real files in ../shared/data", re.compile("shared_data")),
    (FAMILY_B, re.compile(r"worlds\.generate|FAMILIES")),
    ("family A", _FAMILY_A),
    ("hand-written files in tests/data", re.compile("test_data|TEST_DATA|tests/data")),
)
A_FULL = "family A, full metadata"
A_PARTIAL = "family A, no metadata/creative_id/budget"
#: a committed generator file read or copied without the sidecar beside it
_WITHOUT_SIDECAR = re.compile(
    r'(read_csv|read_bytes|read_text)\([^()]*"report" / "campaigns\.csv"|'
    r'"report" / "campaigns\.csv"\)\.(read_bytes|read_text)\('
)
_WITH_METADATA = re.compile(
    r"\w*(world|small)\w*\.write\(|\"generate\",\s*(str\(|\"data\")|metadata=|campaign_meta|"
    r"_meta\.(yaml|csv)|\b(\w*world\w*|small|loaded)\.campaigns\b|"
    r"compare_campaigns\(\s*(world|loaded)\b\s*[,)]|"
    r'"report" / "campaigns\.csv"|"report" / "run"|freeze_report_run|dashboard_sample|load\(DATA|'
    r"sample_data\(|_report\.ipynb"
)
_DROPS_A_COLUMN = re.compile(r"""drop\([^()]*["'](creative_id|budget)["']""")


def _family_a_label(text: str) -> str:
    text = _WITHOUT_SIDECAR.sub("", text)
    if _WITH_METADATA.search(text) and not _DROPS_A_COLUMN.search(text):
        return A_FULL
    return A_PARTIAL


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shape-table",
        action="store_true",
        help="after collection, print how many tests run on each data shape",
    )


@functools.cache
def _constants(path: Path) -> dict[str, str]:
    """The source of each top-level assignment of a tests/ file, by the name it assigns."""
    import ast

    source = path.read_text()
    found = {}
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = ast.get_source_segment(source, node) or ""
    return found


def _helpers_named(text: str, namespace: dict, path: Path | None) -> list[object]:
    """What ``text`` names among the functions, classes and module constants of tests/: the
    objects, and the source text of the constants' assignments."""
    import inspect

    found: list[object] = []
    constants = _constants(path) if path and path.is_relative_to(REPO / "tests") else {}
    for name in set(re.findall(r"\b[A-Za-z_]\w*", text)):
        if name in constants:
            found.append(constants[name])
        obj = namespace.get(name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        try:
            where = Path(inspect.getsourcefile(obj) or "")
        except TypeError:
            continue
        if where.is_relative_to(REPO / "tests"):
            found.append(obj)
    return found


def _sources(item: pytest.Item) -> str:
    import inspect
    import sys

    texts, seen = [], set()
    todo = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for defs in info.name2fixturedefs.values() if info else ():
        todo.extend(d.func for d in defs)
    while todo:
        obj = todo.pop()
        if obj is None or obj in seen:
            continue
        seen.add(obj)
        if isinstance(obj, str):  # a module constant's assignment
            texts.append(obj)
            continue
        try:
            text = inspect.getsource(obj)
            path = Path(inspect.getsourcefile(obj) or "")
        except (OSError, TypeError):
            continue
        texts.append(text)
        module = sys.modules.get(getattr(obj, "__module__", ""))
        namespace = getattr(obj, "__globals__", None) or (vars(module) if module else {})
        todo.extend(_helpers_named(text, namespace, path))
    names = " ".join(getattr(item, "fixturenames", ()))
    return names + "\n" + "\n".join(texts)


def _shape_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and isinstance(callspec.params.get("shape"), str):
        return f"shape: {callspec.params['shape']}"
    text = _sources(item)
    values = callspec.params.values() if callspec is not None else ()
    family = next((v for v in values if isinstance(v, str) and v in ("a", "b")), None)
    if family and "FAMILIES" in text:  # parametrised over simkit.data.worlds.FAMILIES
        return _family_a_label(text) if family == "a" else FAMILY_B
    for label, pattern in _SHAPE_PATTERNS:
        if pattern.search(text):
            return _family_a_label(text) if label == "family A" else label
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
    # issue 23's target: at most half of them on family A with full metadata
    full = counts[A_FULL] + counts["shape: a-full-metadata"]
    verdict = "met" if 2 * full <= data_tests else "NOT met"
    lines.append(
        f"{'family A with full metadata, all':<44} {full:>6} {full / max(data_tests, 1):6.1%}"
        f"  (target <= 50%: {verdict})"
    )
    print("\n".join(lines))
