"""Opt-in error reports (Sentry) and product analytics (PostHog); nothing without a key.

* **Sentry**, when ``SENTRY_DSN`` is set: :func:`init_sentry` (the CLI and the dashboard's
  kernels call it) and :func:`capture_failure` (a failed campaign report, a dashboard
  error).  ``before_send`` (:func:`scrub_event`) replaces every value that may be a secret:
  fields named like one (token, password, secret, api key, DSN, authorization, cookie),
  the values of the secret environment variables wherever they appear, ``token=`` query
  arguments and the credentials of URLs.  No PII is sent (the SDK default: no headers, cookies, users or local variables).
* **PostHog**, when both ``POSTHOG_API_KEY`` and ``POSTHOG_HOST`` are set: :func:`track`
  records product events (a run finished, a preview, a pivot viewed, feedback) with counts
  and durations only, never a campaign id, a name or a path, under an anonymous
  installation id.  Without both variables no client is made and nothing is sent.

Both are read at call time (nothing happens at import).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
from collections.abc import Callable
from typing import Any

__all__ = [
    "POSTHOG_HOST_VAR",
    "POSTHOG_KEY_VAR",
    "SECRET_ENV_VARS",
    "SENTRY_VAR",
    "capture_failure",
    "init_sentry",
    "scrub_event",
    "scrub_text",
    "track",
]

log = logging.getLogger(__name__)

SENTRY_VAR = "SENTRY_DSN"
POSTHOG_KEY_VAR = "POSTHOG_API_KEY"
POSTHOG_HOST_VAR = "POSTHOG_HOST"
#: Environment variables whose values never leave the machine in a report.
SECRET_ENV_VARS = (
    "SIMKIT_MASTER_KEY",
    "SIMKIT_DASHBOARD_TOKEN",
    "JUPYTER_TOKEN",
    "SENTRY_DSN",
    "POSTHOG_API_KEY",
    "SIMKIT_REGISTRY_URL",
    "OPENAI_API_KEY",
    "PGPASSWORD",
)
SCRUBBED = "[scrubbed]"
_SECRET_KEY = re.compile(
    r"(secret|token|passw|api_?key|credential|private_?key|auth|dsn|cookie|session|webhook)",
    re.I,
)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s:]+(:[^/@\s]*)?@", re.I)
_TOKEN_ARG = re.compile(r"(?P<key>(token|key|secret|password|sig)=)[^&\s\"']+", re.I)
_SLACK_HOOK = re.compile(r"(hooks\.slack\.com/services/)[^\s\"']+", re.I)

_state: dict[str, Any] = {"sentry": False, "posthog": None}


def _secret_values() -> list[str]:
    values = [os.environ.get(name, "") for name in SECRET_ENV_VARS]
    return sorted({v for v in values if len(v) >= 6}, key=len, reverse=True)


def _scrub_text(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, SCRUBBED)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{SCRUBBED}@", text)
    text = _TOKEN_ARG.sub(lambda m: f"{m.group('key')}{SCRUBBED}", text)
    return _SLACK_HOOK.sub(lambda m: f"{m.group(1)}{SCRUBBED}", text)


def scrub_text(text: str) -> str:
    """``text`` with the secret environment variables' values, URL credentials, ``token=``
    style arguments and Slack webhook paths replaced (what :func:`scrub_event` does to each
    string of an event)."""
    return _scrub_text(text, _secret_values())


def scrub_event(event: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    """Sentry's ``before_send``: the event with every possible secret replaced."""
    secrets = _secret_values()

    def walk(value: Any, key: str | None = None) -> Any:
        if key is not None and _SECRET_KEY.search(key) and isinstance(value, (str, bytes)):
            return SCRUBBED
        if isinstance(value, dict):
            return {k: walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, tuple):
            return tuple(walk(v) for v in value)
        if isinstance(value, str):
            return _scrub_text(value, secrets)
        return value

    return walk(event)


def init_sentry(*, transport: Any = None, environment: str | None = None) -> bool:
    """Start Sentry when ``SENTRY_DSN`` is set (once per process); whether it is on."""
    dsn = os.environ.get(SENTRY_VAR)
    if not dsn:
        return False
    if _state["sentry"] and transport is None:
        return True
    import sentry_sdk  # opt-in: imported only when a DSN is configured

    sentry_sdk.init(
        dsn=dsn,
        release=f"simkit@{_version()}",
        environment=environment or os.environ.get("SIMKIT_ENVIRONMENT", "production"),
        before_send=scrub_event,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        transport=transport,
    )
    _state["sentry"] = True
    return True


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("simkit")
    except PackageNotFoundError:
        return "0+unknown"


def capture_failure(message: str, *, kind: str, **context: Any) -> None:
    """Report a failure to Sentry (when it is on): a failed report, a dashboard error."""
    if not _state["sentry"] and not init_sentry():
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        scope.set_tag("kind", kind)
        for key, value in context.items():
            scope.set_extra(key, value)
        sentry_sdk.capture_message(message, level="error")


def _installation_id() -> str:
    return "simkit-" + hashlib.sha256(socket.gethostname().encode()).hexdigest()[:16]


def _posthog() -> Any | None:
    key, host = os.environ.get(POSTHOG_KEY_VAR), os.environ.get(POSTHOG_HOST_VAR)
    if not key or not host:
        return None
    client = _state["posthog"]
    if client is not None and client[0] == (key, host):
        return client[1]
    from posthog import Posthog  # opt-in: imported only when configured

    made = Posthog(
        project_api_key=key,
        host=host,
        sync_mode=True,
        disable_geoip=True,
        max_retries=1,
        timeout=5,
        enable_exception_autocapture=False,
    )
    _state["posthog"] = ((key, host), made)
    return made


_EVENTS = ("run finished", "preview", "pivot viewed", "feedback", "export", "purge")


def track(event: str, *, sender: Callable[..., Any] | None = None, **properties: Any) -> bool:
    """Record a product event (when PostHog is configured); whether one was sent.

    ``properties`` are counts, durations and statuses; a value that is not a number, a
    bool or a short plain word is dropped, so no id, name or path can slip in.
    """
    if event not in _EVENTS:
        raise ValueError(f"unknown analytics event {event!r}; one of {_EVENTS}")
    client = _posthog()
    if client is None:
        return False
    clean = {
        k: v
        for k, v in properties.items()
        if isinstance(v, (bool, int, float))
        or (isinstance(v, str) and re.fullmatch(r"[a-z_]{1,32}", v))
    }
    try:
        (sender or client.capture)(event, distinct_id=_installation_id(), properties=clean)
    except Exception as exc:  # analytics never fail the work they describe
        log.warning("analytics event not sent: %s", type(exc).__name__)
        return False
    return True
