from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simkit import audit

_WRITER = """
import sys
from simkit import audit
for i in range(int(sys.argv[2])):
    audit.record("run.started", path=sys.argv[1], run_id=f"w{sys.argv[3]}-{i}")
"""


def test_lines_chain_each_to_the_previous_line(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    audit.record("run.started", path=log, run_id="r1", campaigns=["C001"])
    audit.record("run.finished", path=log, run_id="r1", status="succeeded")
    lines = log.read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["prev"] == audit.GENESIS and first["seq"] == 1
    import hashlib

    assert second["prev"] == hashlib.sha256(lines[0].encode()).hexdigest()
    assert audit.verify(log).ok and audit.verify(log).n_lines == 2


def test_a_changed_line_is_named(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    for i in range(4):
        audit.record("report.published", path=log, run_id=f"R00{i}")
    lines = log.read_text().splitlines()
    lines[1] = lines[1].replace("R001", "R009")
    log.write_text("\n".join(lines) + "\n")
    result = audit.verify(log)
    assert not result.ok and result.line == 2
    assert result.problem == "line 2 was changed (its hash differs)"


def test_a_changed_line_with_a_recomputed_hash_is_named(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    for i in range(3):
        audit.record("report.published", path=log, campaign_id=f"C00{i}")
    lines = log.read_text().splitlines()
    entry = json.loads(lines[0])
    entry.pop("hash")
    entry["campaign_id"] = "C999"
    entry["hash"] = audit._sha(audit._canonical(entry))
    lines[0] = audit._canonical(entry)
    log.write_text("\n".join(lines) + "\n")
    result = audit.verify(log)
    assert (result.ok, result.line) == (False, 1)
    assert "line 1 was changed" in (result.problem or "")


@pytest.mark.parametrize(("drop", "named"), [(1, "line 2 was deleted"), (3, "line 4 was deleted")])
def test_a_deleted_line_is_named(tmp_path: Path, drop: int, named: str) -> None:
    log = tmp_path / "audit.jsonl"
    for i in range(4):
        audit.record("run.started", path=log, run_id=f"r{i}")
    lines = log.read_text().splitlines()
    del lines[drop]
    log.write_text("\n".join(lines) + "\n")
    result = audit.verify(log)
    assert not result.ok and result.line == drop + 1
    assert named in (result.problem or "")


@pytest.mark.slow  # three interpreters importing simkit: about 10 s on the shared machine
def test_concurrent_writers_keep_the_chain(tmp_path: Path) -> None:
    log = str(tmp_path / "audit.jsonl")
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, log, "15", str(w)]) for w in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    result = audit.verify(log)
    assert result.ok, result.problem
    assert result.n_lines == 45
    ids = {e["run_id"] for e in audit.entries(log)}
    assert len(ids) == 45


def test_secrets_are_refused_and_tokens_recorded_by_identity(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    with pytest.raises(audit.AuditError, match="'token' looks like a secret"):
        audit.record("dashboard.session", path=log, token="s3cr3t-SENTINEL")
    with pytest.raises(audit.AuditError, match="'password' looks like a secret"):
        audit.record("key.set", path=log, password="x")
    audit.record("dashboard.session", path=log, token_id=audit.token_id("s3cr3t-SENTINEL"))
    assert "SENTINEL" not in log.read_text()
    assert audit.token_id("a") != audit.token_id("b")


def test_entries_filter_by_campaign_and_since(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    audit.record("run.started", path=log, campaigns=["C001", "C003"])
    audit.record("report.published", path=log, campaign_id="C002")
    assert [e["event"] for e in audit.entries(log, campaign="C003")] == ["run.started"]
    assert len(audit.entries(log, since="2000-01-01")) == 2
    assert audit.entries(log, since="2999-01-01") == []
    with pytest.raises(audit.AuditError, match="'yesterday' is not a date"):
        audit.entries(log, since="yesterday")


def test_the_log_lives_beside_a_sqlite_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit.ENV_VAR, raising=False)
    monkeypatch.delenv("SIMKIT_REGISTRY_URL", raising=False)
    assert audit.audit_path(f"sqlite:///{tmp_path}/r.sqlite") == tmp_path / "audit.jsonl"
    assert audit.audit_path() == Path(".simkit-cache/audit.jsonl")
    assert audit.audit_path("postgresql+psycopg://u@h/db") == Path(".simkit-cache/audit.jsonl")
    monkeypatch.setenv(audit.ENV_VAR, str(tmp_path / "x.jsonl"))
    assert audit.audit_path(f"sqlite:///{tmp_path}/r.sqlite") == tmp_path / "x.jsonl"


def test_campaigns_are_recorded_by_pseudonym_and_forgotten(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    audit.record("run.started", path=log, campaigns=["C001", "C003"], client="Acme")
    audit.record("report.published", path=log, campaign_id="C003")
    assert "C003" not in log.read_text() and "Acme" not in log.read_text()
    shown = audit.entries(log, campaign="C003")
    assert [e["event"] for e in shown] == ["run.started", "report.published"]
    assert shown[0]["client"] == "Acme"
    assert audit.forget(campaigns=["C003"], path=log) == 1
    audit.record("purge", path=log, purged_campaigns=["C003"])
    assert [e["event"] for e in audit.entries(log, campaign="C003")] == ["purge"]
    assert audit.entries(log)[0]["campaigns"][0] == "C001"
    assert audit.verify(log).ok
    everything = "".join(p.read_text() for p in tmp_path.iterdir() if p.is_file())
    assert everything.count("C003") == 1
