from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake_openai import FakeOpenAI

#: Never a real key: tests grep every output for it.
SENTINEL_KEY = "sk-simkit-SENTINEL-7f3a9c1e2b"


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(fake_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """The fake server, reset, with the SDK pointed at it and a sentinel key set."""
    fake_server.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL_KEY)
    monkeypatch.delenv("SIMKIT_LLM_DEADLINE_AT", raising=False)
    return fake_server
