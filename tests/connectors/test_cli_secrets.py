"""The sentinel key through the real command line (a subprocess, ``--verbose``, so the log
handler is the one ``simkit`` installs, not pytest's): stored in the encrypted file, used
by ``simkit fetch meta`` and ``simkit fetch semrush`` against the fake servers (a 500,
small pages whose next links carry the token, a wrong token, a malformed --base-url),
then looked for in stdout, stderr and every file written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from simkit.keys import set_key

SENTINEL = "SENTINEL-KEY-7f3a9c1e5b"

_MAIN = "from simkit.cli.app import main; main()"


def _simkit(args: list[str], cwd: Path, env: dict[str, str]):
    return subprocess.run(
        [sys.executable, "-c", _MAIN, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_sentinel_key_reaches_no_stream_and_no_file(
    workdir, fake_meta, fake_semrush, monkeypatch
):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("META_ACCESS_TOKEN", "SEMRUSH_API_KEY", "SIMKIT_CACHE_DIR")
    }
    env |= {"SIMKIT_KEYS_BACKEND": "file", "SIMKIT_MASTER_KEY": Fernet.generate_key().decode()}
    # stored here (`keys set` from stdin is tested in tests/test_keys.py): each subprocess
    # costs seconds of imports
    monkeypatch.setenv("SIMKIT_MASTER_KEY", env["SIMKIT_MASTER_KEY"])
    set_key("META_ACCESS_TOKEN", SENTINEL)
    set_key("SEMRUSH_API_KEY", SENTINEL)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]), env.get("PYTHONPATH", "")])
    phrases = workdir / "phrases.txt"
    phrases.write_text("running shoes\nzzqx nonsense\n")
    fake_meta.state.faults = ["500"]
    meta = ["-v", "fetch", "meta", "--account", "act_1234567890", "--since", "2026-09-01"]
    runs = [
        _simkit(
            [*meta, "--until", "2026-09-03", "--page-size", "2", "--output", "out/meta.csv",
             "--base-url", fake_meta.url],
            workdir, env,
        ),
        _simkit(
            ["-v", "fetch", "semrush", "--phrases", str(phrases), "--output", "out/kw.csv",
             "--base-url", fake_semrush.url],
            workdir, env,
        ),
    ]  # fmt: skip
    assert [r.returncode for r in runs] == [0] * len(runs), [r.stderr for r in runs]
    fake_meta.state.token = fake_semrush.state.token = "the-right-one"
    failed = [
        _simkit(
            [*meta, "--until", "2026-09-03", "--output", "out/bad.csv", "--no-cache",
             "--base-url", fake_meta.url],
            workdir, env,
        ),
        _simkit(
            [*meta, "--until", "2026-09-03", "--output", "out/bad.csv", "--base-url",
             "http://[::1"],
            workdir, env,
        ),
    ]  # fmt: skip
    assert [r.returncode for r in failed] == [1, 1]
    assert "error code 190" in failed[0].stderr
    assert "--base-url is not an http(s) URL" in failed[1].stderr
    for run in failed:
        assert "Traceback" not in run.stderr
        (line,) = [x for x in run.stderr.splitlines() if ": error: " in x]
        assert line.startswith("simkit fetch ")
    streams = "".join(r.stdout + r.stderr for r in runs + failed)
    # the real log handler wrote the request URLs, credential scrubbed: the grep looks
    # where a leak would be
    assert "access_token=***" in runs[0].stderr and "key=***" in runs[1].stderr
    assert "HTTP Request: GET" in runs[0].stderr and "retry 1" in runs[0].stderr
    assert SENTINEL not in streams
    files = [p for p in workdir.rglob("*") if p.is_file()]
    names = {p.relative_to(workdir).as_posix() for p in files}
    assert {"out/meta.csv", "out/meta.csv.provenance.json", "out/kw.csv"} <= names
    assert any(n.startswith(".simkit-cache/http/meta/") for n in names)
    assert ".simkit-cache/sources/health.json" in names and ".simkit-cache/keys/store.json" in names
    assert not any(n.startswith("out/bad") for n in names)
    for path in files:
        assert SENTINEL.encode() not in path.read_bytes(), path
