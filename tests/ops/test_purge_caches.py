from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from simkit.connectors.cache import CachedReply, DiskResponseCache
from simkit.llm.cache import DiskReplyCache
from simkit.ops import Stores, export, purge, subject
from simkit.registry import Registry


def _registry_of_two_campaigns(work: Path, reports: Path) -> Registry:
    """A SQLite registry in ``work`` with one run of C003 and C001."""
    reg = Registry(f"sqlite:///{work / 'registry.sqlite'}")
    reg.create_run(
        "20261202T000000Z-abcdef",
        params={"data": "x.csv"},
        params_hash="h",
        output_dir=str(reports),
        campaigns=["C003", "C001"],
    )
    return reg


def test_connector_replies_naming_the_campaign_are_exported_and_purged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIMKIT_AUDIT_PATH", raising=False)
    work = tmp_path / ".simkit-cache"
    reg = _registry_of_two_campaigns(work, tmp_path / "reports")
    cache = DiskResponseCache("meta", work)
    cache.set("k1", CachedReply(200, {}, '{"campaign_id": "C003", "spend": 12}'))
    cache.set("k2", CachedReply(200, {}, '{"campaign_id": "C001", "spend": 7}'))
    cache.close()
    stores = Stores.open(reg.url)
    who = subject(stores, campaign="C003")
    export(stores, who, tmp_path / "c003.zip")
    with zipfile.ZipFile(tmp_path / "c003.zip") as zf:
        replies = [n for n in zf.namelist() if n.startswith("responses/meta/")]
        assert len(replies) == 1 and b"C003" in zf.read(replies[0])
    result = purge(stores, who)
    assert result.cache_entries_deleted == 1
    again = DiskResponseCache("meta", work)
    assert again.get("k1") is None and "C001" in again.get("k2").text
    again.close()
    leftovers = [p for p in (work / "http").rglob("*") if p.is_file() and b"C003" in p.read_bytes()]
    assert leftovers == []


def test_language_model_replies_naming_the_campaign_are_exported_and_purged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIMKIT_AUDIT_PATH", raising=False)
    work = tmp_path / ".simkit-cache"
    reg = _registry_of_two_campaigns(work, tmp_path / "reports")
    cache = DiskReplyCache(work / "llm")
    cache.set("a" * 64, {"content": '{"campaign": "C003", "cpm_shift": 0.2}', "tokens": 40})
    cache.set("b" * 64, {"content": '{"campaign": "C001", "cpm_shift": 0.1}', "tokens": 38})
    cache.close()
    stores = Stores.open(reg.url)
    who = subject(stores, campaign="C003")
    export(stores, who, tmp_path / "c003.zip")
    with zipfile.ZipFile(tmp_path / "c003.zip") as zf:
        replies = [n for n in zf.namelist() if n.startswith("responses/llm/")]
        assert len(replies) == 1 and b"C003" in zf.read(replies[0])
    result = purge(stores, who)
    assert result.cache_entries_deleted == 1
    again = DiskReplyCache(work / "llm")
    assert again.get("a" * 64) is None
    assert "C001" in again.get("b" * 64)["content"]
    again.close()
    leftovers = [p for p in (work / "llm").rglob("*") if p.is_file() and b"C003" in p.read_bytes()]
    assert leftovers == []
