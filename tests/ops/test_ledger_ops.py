from __future__ import annotations

from pathlib import Path

import pytest

from simkit import audit
from simkit.ledger.store import Ledger
from simkit.ops import Stores, purge, subject


def test_ledger_feedback_is_audited_and_purged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit.ENV_VAR, raising=False)
    url = f"sqlite:///{tmp_path / '.simkit-cache' / 'registry.sqlite'}"
    ledger = Ledger(url)
    ledger.add_feedback(
        target_kind="pivot",
        target_id="pivot:C003:budget",
        campaign_id="C003",
        useful=True,
        note="C003 looks right",
        given_by="analyst",
    )
    log = tmp_path / ".simkit-cache" / "audit.jsonl"
    (entry,) = audit.entries(log, campaign="C003")
    assert (entry["event"], entry["target_kind"], entry["useful"]) == (
        "ledger.feedback",
        "pivot",
        True,
    )
    assert "C003" not in log.read_text()
    stores = Stores.open(url)
    result = purge(stores, subject(stores, campaign="C003"))
    assert result.rows_deleted == {"feedback": 1}
    assert ledger.list_feedback(campaign_id="C003") == []
    db = tmp_path / ".simkit-cache" / "registry.sqlite"
    assert b"C003" not in db.read_bytes()
    assert [e["event"] for e in audit.entries(log, campaign="C003")] == ["purge"]
