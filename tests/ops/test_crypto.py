from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from simkit import crypto
from simkit.ops import Stores, purge, subject
from simkit.registry import Registry
from simkit.runner import CampaignOutcome

SENTINEL = "SENTINEL-detail-7f3a"


def _registry(tmp_path: Path) -> tuple[Registry, Path]:
    db = tmp_path / ".simkit-cache" / "registry.sqlite"
    reg = Registry(f"sqlite:///{db}")
    reg.create_run(
        "20261202T000000Z-abcdef",
        params={"data": "x.csv", "campaigns": ["C001", "C003"], "note": SENTINEL},
        params_hash="h",
        output_dir=str(tmp_path / "reports"),
        campaigns=["C001", "C003"],
    )
    outcome = CampaignOutcome(
        "C001", "failed", 1, 0.0, 1.0, error="boom", detail=f"Traceback {SENTINEL} C003"
    )
    reg.campaign_done("20261202T000000Z-abcdef", outcome)
    return reg, db


def _raw(db: Path) -> bytes:
    con = sqlite3.connect(db)
    try:
        return json.dumps(
            [con.execute(f"select * from {t}").fetchall() for t in ("runs", "campaign_runs")]
        ).encode()
    finally:
        con.close()


def test_payload_columns_are_encrypted_at_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(crypto.ENV_VAR, Fernet.generate_key().decode())
    reg, db = _registry(tmp_path)
    raw = _raw(db)
    assert SENTINEL.encode() not in raw and b"fernet:" in raw
    run = reg.get_run("20261202")
    assert run["params"]["note"] == SENTINEL
    assert SENTINEL in run["campaigns"][0]["error_detail"]
    monkeypatch.delenv(crypto.ENV_VAR)
    with pytest.raises(crypto.CryptoError, match="set SIMKIT_MASTER_KEY to read them"):
        reg.get_run("20261202")
    monkeypatch.setenv(crypto.ENV_VAR, Fernet.generate_key().decode())
    with pytest.raises(crypto.CryptoError, match="does not decrypt with SIMKIT_MASTER_KEY"):
        reg.get_run("20261202")


def test_a_rotated_key_still_reads_old_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(crypto.ENV_VAR, old)
    reg, _ = _registry(tmp_path)
    monkeypatch.setenv(crypto.ENV_VAR, f"{new},{old}")
    assert reg.get_run("20261202")["params"]["note"] == SENTINEL


def test_without_a_key_values_stay_plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(crypto.ENV_VAR, raising=False)
    _, db = _registry(tmp_path)
    assert SENTINEL.encode() in _raw(db) and b"fernet:" not in _raw(db)


def test_a_bad_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(crypto.ENV_VAR, "not-a-key")
    with pytest.raises(crypto.CryptoError, match="is not a Fernet key"):
        crypto.encrypt_stored("x")


def test_purge_scrubs_encrypted_payloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(crypto.ENV_VAR, Fernet.generate_key().decode())
    monkeypatch.delenv("SIMKIT_AUDIT_PATH", raising=False)
    reg, db = _registry(tmp_path)
    stores = Stores.open(reg.url)
    purge(stores, subject(stores, campaign="C003"))
    run = reg.get_run("20261202")
    assert run["params"]["campaigns"] == ["C001"]
    assert "C003" not in run["campaigns"][0]["error_detail"]
    assert [c["campaign_id"] for c in run["campaigns"]] == ["C001"]
    assert b"fernet:" in _raw(db) and b"C003" not in db.read_bytes()
