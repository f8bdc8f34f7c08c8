"""The dashboard token is compared in constant time, everywhere simkit checks it."""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from simkit.dashboard import voila_app


def test_token_matches_uses_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(voila_app.hmac, "compare_digest", spy)
    assert voila_app.token_matches("s3cret-token", "s3cret-token")
    assert not voila_app.token_matches("s3cret-tokem", "s3cret-token")
    assert not voila_app.token_matches(None, "s3cret-token")
    assert len(calls) == 2


class _Form:
    def __init__(self, password: str) -> None:
        self.password = password

    def get_argument(self, name: str, default: str = "") -> str:
        return self.password if name == "password" else default


def test_the_login_form_checks_the_token_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[Any, Any]] = []
    real = voila_app.token_matches

    def spy(given: Any, expected: Any) -> bool:
        seen.append((given, expected))
        return real(given, expected)

    monkeypatch.setattr(voila_app, "token_matches", spy)
    provider = voila_app.SimkitIdentityProvider(token="s3cret-token-0123456789")
    provider.generate_anonymous_user = lambda handler: "anonymous"  # type: ignore[method-assign]
    assert provider.process_login_form(_Form("s3cret-token-0123456789")) == "anonymous"
    assert provider.process_login_form(_Form("s3cret-token-012345678X")) is None
    assert seen == [
        ("s3cret-token-0123456789", "s3cret-token-0123456789"),
        ("s3cret-token-012345678X", "s3cret-token-0123456789"),
    ]


def test_voila_is_served_with_the_constant_time_provider() -> None:
    assert voila_app.SimkitVoila.identity_provider_class.default_value is (
        voila_app.SimkitIdentityProvider
    )
