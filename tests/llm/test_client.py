"""The client against the fake server: every failure mode is an LLMError with its kind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from simkit.llm import Deadline, LLMClient, LLMError, NarrativeReply, ScenarioReply
from simkit.llm.cache import DiskReplyCache, cache_key
from simkit.params import LLMOptions, LLMPrice

from .conftest import SENTINEL_KEY
from .fake_openai import COMPLETION_TOKENS, MODEL, PROMPT_TOKENS, FakeOpenAI

FACTS = {"horizon_days": 30, "recent.days": 28, "recent.cpa": 3.4, "campaign_id": "C1"}
FACTS.update({f"forecast.conversions.{q}": v for q, v in (("p10", 80), ("p50", 100), ("p90", 130))})


def _messages(extra: str = "") -> list[dict[str, str]]:
    import json

    return [
        {"role": "system", "content": "write" + extra},
        {"role": "user", "content": "Facts:\n" + json.dumps(FACTS)},
    ]


def _client(tmp_path: Path, **options: object) -> LLMClient:
    return LLMClient("gpt-4o", LLMOptions(**options), state_dir=tmp_path / "llm")


def test_success_parses_and_accounts_tokens_and_cost(fake_openai: FakeOpenAI, tmp_path: Path):
    client = _client(tmp_path)
    reply = client.parse(_messages(), NarrativeReply)
    assert isinstance(reply.parsed, NarrativeReply)
    assert "100 conversions" in reply.parsed.paragraph
    assert reply.model == MODEL and not reply.cached
    u = client.usage
    assert (u.requests, u.cache_misses, u.cache_hits, u.failures) == (1, 1, 0, 0)
    assert (u.prompt_tokens, u.completion_tokens) == (PROMPT_TOKENS, COMPLETION_TOKENS)
    # gpt-4o list price: $2.50 / 1M prompt tokens, $10 / 1M completion tokens
    assert u.cost_usd == pytest.approx(PROMPT_TOKENS * 2.5e-6 + COMPLETION_TOKENS * 1e-5)
    sent = fake_openai.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "gpt-4o"
    assert sent["body"]["response_format"]["type"] == "json_schema"
    assert sent["body"]["response_format"]["json_schema"]["strict"] is True
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert headers["authorization"] == f"Bearer {SENTINEL_KEY}"


def test_price_table_is_configurable(fake_openai: FakeOpenAI, tmp_path: Path):
    price = LLMPrice(input_per_million=1.0, output_per_million=2.0)
    client = _client(tmp_path, prices={"gpt-4o": price})
    client.parse(_messages(), NarrativeReply)
    assert client.usage.cost_usd == pytest.approx(PROMPT_TOKENS * 1e-6 + COMPLETION_TOKENS * 2e-6)


def test_unknown_model_price_counts_unpriced_tokens(fake_openai: FakeOpenAI, tmp_path: Path):
    client = LLMClient("local-llama", LLMOptions(), state_dir=tmp_path / "llm")
    client.parse(_messages(), NarrativeReply)
    assert client.usage.cost_usd == 0.0
    assert client.usage.unpriced_tokens == PROMPT_TOKENS + COMPLETION_TOKENS


def test_429_with_retry_after_then_success(fake_openai: FakeOpenAI, tmp_path: Path):
    fake_openai.behaviour.script = ["429"]
    fake_openai.behaviour.retry_after = "1"
    t0 = time.monotonic()
    reply = _client(tmp_path).parse(_messages(), NarrativeReply)
    elapsed = time.monotonic() - t0
    assert isinstance(reply.parsed, NarrativeReply)
    assert len(fake_openai.requests) == 2
    assert elapsed >= 0.95  # waited as Retry-After asked (not the SDK's 0.5 s backoff)


def test_retry_after_longer_than_the_deadline_is_cut_to_it(fake_openai: FakeOpenAI, tmp_path: Path):
    fake_openai.behaviour.default = "429"
    fake_openai.behaviour.retry_after = "60"
    client = LLMClient(
        "gpt-4o",
        LLMOptions(max_retries=2),
        state_dir=tmp_path / "llm",
        deadline=Deadline(time.time() + 1.5),
    )
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="rate limits") as info:
        client.parse(_messages(), NarrativeReply)
    assert info.value.kind == "rate_limit"
    assert time.monotonic() - t0 < 10


def test_500_fails_after_the_sdk_retries(fake_openai: FakeOpenAI, tmp_path: Path):
    fake_openai.behaviour.default = "500"
    client = _client(tmp_path, max_retries=1)
    with pytest.raises(LLMError, match=r"HTTP 500") as info:
        client.parse(_messages(), NarrativeReply)
    assert info.value.kind == "http"
    assert len(fake_openai.requests) == 2  # the first try and one retry
    assert client.usage.failures == 1


def test_timeout(fake_openai: FakeOpenAI, tmp_path: Path):
    fake_openai.behaviour.default = "timeout"
    fake_openai.behaviour.delay_seconds = 2.0
    client = _client(tmp_path, timeout_seconds=0.3, max_retries=0)
    with pytest.raises(LLMError, match="no reply within") as info:
        client.parse(_messages(), NarrativeReply)
    assert info.value.kind == "timeout"


def test_content_that_is_not_json(fake_openai: FakeOpenAI, tmp_path: Path):
    fake_openai.behaviour.default = "not_json_content"
    with pytest.raises(LLMError, match="is not JSON") as info:
        _client(tmp_path).parse(_messages(), NarrativeReply)
    assert info.value.kind == "malformed"


def test_body_that_is_not_json(fake_openai: FakeOpenAI, tmp_path: Path):
    fake_openai.behaviour.default = "not_json_body"
    with pytest.raises(LLMError, match="not") as info:
        _client(tmp_path, max_retries=0).parse(_messages(), NarrativeReply)
    assert info.value.kind == "malformed"


def test_reply_that_breaks_the_schema(fake_openai: FakeOpenAI, tmp_path: Path):
    fake_openai.behaviour.default = "schema"
    with pytest.raises(LLMError, match="breaks the schema") as info:
        _client(tmp_path).parse(_messages(), ScenarioReply)
    assert info.value.kind == "schema"


def test_cache_hit_sends_no_request(fake_openai: FakeOpenAI, tmp_path: Path):
    first = _client(tmp_path)
    a = first.parse(_messages(), NarrativeReply)
    second = _client(tmp_path)  # a new client, as in the next run: same folder
    b = second.parse(_messages(), NarrativeReply)
    assert len(fake_openai.requests) == 1
    assert b.cached and b.parsed == a.parsed
    assert (second.usage.cache_hits, second.usage.cache_misses, second.usage.requests) == (1, 0, 0)
    # another prompt is a miss
    second.parse(_messages(" more"), NarrativeReply)
    assert len(fake_openai.requests) == 2
    assert second.usage.cache_misses == 1


def test_cache_key_depends_on_model_messages_and_schema():
    m = _messages()
    base = cache_key("gpt-4o", m, NarrativeReply.model_json_schema())
    assert base == cache_key("gpt-4o", _messages(), NarrativeReply.model_json_schema())
    assert base != cache_key("gpt-4o-mini", m, NarrativeReply.model_json_schema())
    assert base != cache_key("gpt-4o", _messages("!"), NarrativeReply.model_json_schema())
    assert base != cache_key("gpt-4o", m, ScenarioReply.model_json_schema())


def test_no_key_sends_nothing(fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(LLMError, match="OPENAI_API_KEY is not set") as info:
        _client(tmp_path).parse(_messages(), NarrativeReply)
    assert info.value.kind == "no_key"
    assert fake_openai.requests == []


def test_passed_deadline_sends_nothing(fake_openai: FakeOpenAI, tmp_path: Path):
    client = LLMClient("gpt-4o", state_dir=tmp_path / "llm", deadline=Deadline(time.time() - 1))
    with pytest.raises(LLMError, match="deadline") as info:
        client.parse(_messages(), NarrativeReply)
    assert info.value.kind == "deadline"
    assert fake_openai.requests == []


def test_run_deadline_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SIMKIT_LLM_DEADLINE_AT", "12345.5")
    assert Deadline.for_run(300).at == 12345.5
    monkeypatch.delenv("SIMKIT_LLM_DEADLINE_AT")
    assert Deadline.for_run(300).at == pytest.approx(time.time() + 300, abs=5)


def test_unreachable_server(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # discard port: refused
    with pytest.raises(LLMError, match="cannot reach the server") as info:
        _client(tmp_path, max_retries=0).parse(_messages(), NarrativeReply)
    assert info.value.kind == "unreachable"
    assert SENTINEL_KEY not in str(info.value)


def test_rate_limit_is_shared_and_waits(fake_openai: FakeOpenAI, tmp_path: Path):
    """With 2 requests a minute, a third call cannot start before the deadline."""
    opts = LLMOptions(requests_per_minute=2, cache=False)
    client = LLMClient(
        "gpt-4o", opts, state_dir=tmp_path / "llm", deadline=Deadline(time.time() + 1)
    )
    client.parse(_messages("1"), NarrativeReply)
    client.parse(_messages("2"), NarrativeReply)
    with pytest.raises(LLMError, match="requests-per-minute limit") as info:
        client.parse(_messages("3"), NarrativeReply)
    assert info.value.kind == "deadline"
    assert len(fake_openai.requests) == 2


def test_the_key_is_in_no_error_and_no_cache_file(fake_openai: FakeOpenAI, tmp_path: Path):
    errors = []
    for mode in ("500", "schema", "not_json_content", "not_json_body"):
        fake_openai.behaviour.default = mode
        try:
            _client(tmp_path, max_retries=0).parse(_messages(mode), NarrativeReply)
        except LLMError as exc:
            errors.append(str(exc))
    fake_openai.behaviour.default = "ok"
    _client(tmp_path).parse(_messages(), NarrativeReply)
    assert len(errors) == 4
    assert not any(SENTINEL_KEY in e for e in errors)
    files = [p for p in (tmp_path / "llm").rglob("*") if p.is_file()]
    assert files  # the cache and the limiter's state were written
    for p in files:
        assert SENTINEL_KEY.encode() not in p.read_bytes(), p


def test_disk_cache_roundtrip(tmp_path: Path):
    cache = DiskReplyCache(tmp_path)
    assert cache.get("k") is None
    cache.set("k", {"content": "{}", "model": "m"})
    assert DiskReplyCache(tmp_path).get("k") == {"content": "{}", "model": "m"}


def test_the_key_can_come_from_simkit_keys(fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch):
    from simkit import keys

    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("SIMKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SIMKIT_KEYS_BACKEND", "file")
    monkeypatch.setenv("SIMKIT_MASTER_KEY", keys.new_master_key())
    with pytest.raises(LLMError, match="not set"):
        _client(tmp_path).parse(_messages(), NarrativeReply)
    keys.set_key("OPENAI_API_KEY", SENTINEL_KEY)
    _client(tmp_path).parse(_messages(), NarrativeReply)
    headers = {k.lower(): v for k, v in fake_openai.requests[-1]["headers"].items()}
    assert headers["authorization"] == f"Bearer {SENTINEL_KEY}"
    assert all(
        SENTINEL_KEY.encode() not in p.read_bytes()
        for p in (tmp_path / "llm").rglob("*")
        if p.is_file()
    )
