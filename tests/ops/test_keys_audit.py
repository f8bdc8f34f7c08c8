from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from simkit import audit, keys

SENTINEL = "SENTINEL-key-value-0123456789"


def test_keys_set_rotated_used_and_deleted_are_audited_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("SIMKIT_CACHE_DIR", audit.ENV_VAR, "SIMKIT_REGISTRY_URL", "SEMRUSH_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SIMKIT_KEYS_BACKEND", "file")
    monkeypatch.setenv("SIMKIT_MASTER_KEY", Fernet.generate_key().decode())
    keys.set_key("SEMRUSH_API_KEY", SENTINEL)
    keys.rotate_key("SEMRUSH_API_KEY", SENTINEL + "-2")
    assert keys.get_key("SEMRUSH_API_KEY") == SENTINEL + "-2"
    keys.delete_key("SEMRUSH_API_KEY")
    log = tmp_path / ".simkit-cache" / "audit.jsonl"
    events = audit.entries(log)
    assert [e["event"] for e in events] == ["key.set", "key.rotated", "key.used", "key.deleted"]
    assert {e["key_name"] for e in events} == {"SEMRUSH_API_KEY"}
    assert SENTINEL not in log.read_text()
    assert audit.verify(log).ok
