"""The connector base: one polite HTTP client per source, built on well-kept libraries.

* :mod:`httpx` sends the requests, with a timeout per request (shortened to what is left
  of the fetch's deadline);
* :mod:`tenacity` retries rate limits, 5xx replies and timeouts: exponential backoff
  with jitter (``wait_exponential_jitter``), or the server's ``Retry-After`` when it
  gives one, and stops before the deadline (``stop_before_delay``) or after
  ``max_attempts``;
* :mod:`pyrate_limiter` keeps each source under its declared request rate (one limiter
  per source and process);
* a response cache (:mod:`simkit.connectors.cache`, diskcache by default) answers a
  request again within the source's TTL without sending it; its keys never hold the
  credential (the auth parameter is left out of the key) and its bodies are scrubbed;
* every request's outcome, latency and the rate-limit headroom the API reports go to
  the health state (:mod:`simkit.connectors.health`) that ``simkit sources status``
  reads.

Each source declares a :class:`SourceSpec` (limits, auth, paging, TTL) and subclasses
:class:`Connector` to say what an error looks like (:meth:`Connector.check`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import tenacity
from pyrate_limiter import Duration, Limiter, Rate

from simkit.connectors.cache import CachedReply, DiskResponseCache, ResponseCache
from simkit.connectors.health import HealthState
from simkit.errors import SimkitError
from simkit.keys import install_log_scrubber, register_secret, scrub
from simkit.metrics import (
    CACHE_HITS,
    CACHE_MISSES,
    CONNECTOR_ERRORS,
    CONNECTOR_LATENCY,
    CONNECTOR_REQUESTS,
)

__all__ = [
    "ApiError",
    "AuthError",
    "Connector",
    "ConnectorError",
    "RateLimitedError",
    "Reply",
    "SourceSpec",
    "TransientError",
    "retry_after_seconds",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- errors


class ConnectorError(SimkitError):
    """A source failed; names the source and the HTTP status, never a credential."""

    def __init__(self, message: str, *, source: str, status: int | None = None) -> None:
        self.source, self.status = source, status
        self.detail = scrub(message)
        where = f"{source}" + (f" (HTTP {status})" if status is not None else "")
        super().__init__(f"{where}: {self.detail}")


class TransientError(ConnectorError):
    """Worth retrying: a 5xx reply, a timeout, a dropped connection."""


class RateLimitedError(TransientError):
    """The source says slow down (HTTP 429, Meta codes 4/17/80004...); ``retry_after`` in
    seconds when it says how long."""

    def __init__(
        self, message: str, *, source: str, status: int | None, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, source=source, status=status)


class AuthError(ConnectorError):
    """The credential is missing, wrong or expired: retrying cannot help."""


class ApiError(ConnectorError):
    """The source refused the request for another reason (a bad parameter, ...)."""


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class SourceSpec:
    """What a source declares: where it is, its limits, its auth and how it pages.

    Attributes
    ----------
    name
        The source's name (``meta``, ``semrush``), used by the health state and the cache.
    base_url
        The default API root (``--base-url`` replaces it).
    key_name
        The key it needs (:func:`simkit.keys.get_key`), or ``None``.
    auth_param
        The query parameter that carries the key (left out of cache keys and logs).
    requests_per_second
        The client-side rate (pyrate-limiter), below the API's documented limit.
    cache_ttl_seconds
        How long a cached reply answers again without a request.
    timeout_seconds, deadline_seconds
        Per request, and for a whole fetch (all pages and retries).
    max_attempts
        Tries per request, the first included.
    backoff_seconds, backoff_max_seconds
        Exponential backoff base and cap (jitter of up to one base added).
    paging
        How the source pages, in words (for ``simkit sources status`` and the README).
    limits
        The API's documented limits, in words.
    """

    name: str
    base_url: str
    key_name: str | None
    auth_param: str | None
    requests_per_second: int
    cache_ttl_seconds: float
    timeout_seconds: float = 30.0
    deadline_seconds: float = 900.0
    max_attempts: int = 6
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 120.0
    paging: str = "none"
    limits: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Reply:
    """One answered request (from the network or the cache)."""

    status: int
    headers: Mapping[str, str]
    text: str
    from_cache: bool = False
    age_seconds: float = 0.0
    stale: bool = False

    def json(self) -> Any:
        return json.loads(self.text)


_LIMITERS: dict[tuple[str, int], Limiter] = {}


def _limiter(spec: SourceSpec) -> Limiter:
    key = (spec.name, spec.requests_per_second)
    if key not in _LIMITERS:
        _LIMITERS[key] = Limiter(Rate(spec.requests_per_second, Duration.SECOND))
    return _LIMITERS[key]


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class FetchStats:
    """What one fetch did: requests sent, cache hits, retries, pauses."""

    requests: int = 0
    cache_hits: int = 0
    stale_hits: int = 0
    retries: int = 0
    paused_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "stale_hits": self.stale_hits,
            "retries": self.retries,
            "paused_seconds": round(self.paused_seconds, 3),
            "notes": list(self.notes),
        }


class Connector:
    """A polite client of one source.

    Parameters
    ----------
    spec
        The source's declaration.
    key
        The credential (from :func:`simkit.keys.get_key`); registered for scrubbing.
    base_url
        Replaces ``spec.base_url`` (tests, proxies).
    cache
        A :class:`~simkit.connectors.cache.ResponseCache`, ``None`` for the default disk
        cache under ``cache_dir``, or ``False`` for none.
    cache_dir
        Root of the caches and the health state (default ``.simkit-cache``).
    sleep
        How to wait (tests pass a recorder).
    transport
        An :mod:`httpx` transport (tests may pass a mock one).
    """

    def __init__(
        self,
        spec: SourceSpec,
        *,
        key: str | None,
        base_url: str | None = None,
        cache: ResponseCache | None | bool = None,
        cache_dir: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.spec = spec
        self.base_url = _checked_base_url(base_url or spec.base_url, spec.name)
        self._key = key
        if key:
            register_secret(key)
        install_log_scrubber()  # httpx logs every URL at INFO: never with the key
        if cache is None or cache is True:
            self.cache: ResponseCache | None = DiskResponseCache(spec.name, cache_dir)
        else:
            self.cache = cache or None
        self.health = HealthState(cache_dir)
        self._sleep = sleep
        self._client = httpx.Client(transport=transport, follow_redirects=False)
        self.stats = FetchStats()
        self._deadline = time.monotonic() + spec.deadline_seconds
        self._pause_before_next = 0.0

    # -- lifecycle
    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()
        if self.cache is not None:
            self.cache.close()

    def start_fetch(self) -> None:
        """Start the deadline clock of a new fetch."""
        self._deadline = time.monotonic() + self.spec.deadline_seconds
        self.stats = FetchStats()

    def remaining(self) -> float:
        return self._deadline - time.monotonic()

    # -- what a subclass says
    def check(self, response: httpx.Response) -> None:
        """Raise the :class:`ConnectorError` a reply means; return if it is a success."""
        status = response.status_code
        if status == 429:
            raise RateLimitedError(
                "rate limited",
                source=self.spec.name,
                status=status,
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        if status in (401, 403):
            raise AuthError("the credential was refused", source=self.spec.name, status=status)
        if 300 <= status < 400:
            raise ApiError(
                "a redirect, not followed (the credential is only sent to --base-url)",
                source=self.spec.name,
                status=status,
            )
        if status >= 500:
            raise TransientError("server error", source=self.spec.name, status=status)
        if status >= 400:
            raise ApiError(response.text[:300], source=self.spec.name, status=status)

    def headroom(self, response: httpx.Response) -> float | None:
        """The rate-limit headroom (0-100 %) the reply's headers report, if any."""
        return None

    # -- requests
    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def cache_key(self, url: str, params: Mapping[str, Any]) -> str:
        """A hash of the request without its credential: the same request, any key."""
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != self.spec.auth_param]
        query += [(k, str(v)) for k, v in params.items() if k != self.spec.auth_param]
        bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        blob = json.dumps(["GET", bare, sorted(query)], separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        """GET ``path`` (or an absolute URL on the same host), from the cache if fresh.

        The credential is added here, never by the caller, and removed from any URL
        that is logged or cached.
        """
        params = dict(params or {})
        url = self._url(path)
        key = self.cache_key(url, params)
        if self.cache is not None:
            hit = self.cache.get(key)
            fresh = hit is not None and hit.age_seconds <= self.spec.cache_ttl_seconds
            (CACHE_HITS if fresh else CACHE_MISSES).labels("connector").inc()
            if hit is not None and fresh:
                self.stats.cache_hits += 1
                log.info(
                    "%s cache hit (%.0f s old): %s", self.spec.name, hit.age_seconds, scrub(url)
                )
                return Reply(hit.status, hit.headers, hit.text, True, hit.age_seconds)
        try:
            reply = self._get_with_retries(url, params)
        except TransientError:
            stale = self.cache.get(key) if self.cache is not None else None
            if stale is None:
                raise
            self.stats.stale_hits += 1
            self.stats.notes.append(
                f"served a stale cached reply ({stale.age_seconds / 3600:.1f} h old) after "
                "the source failed"
            )
            return Reply(stale.status, stale.headers, stale.text, True, stale.age_seconds, True)
        if self.cache is not None:
            self.cache.set(key, CachedReply(reply.status, dict(reply.headers), scrub(reply.text)))
        return reply

    def _get_with_retries(self, url: str, params: dict[str, Any]) -> Reply:
        spec = self.spec

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            after = getattr(exc, "retry_after", None)
            if after is not None:
                return float(after)
            backoff = tenacity.wait_exponential_jitter(
                multiplier=spec.backoff_seconds,
                max=spec.backoff_max_seconds,
                jitter=spec.backoff_seconds,
            )
            return float(backoff(state))

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.stats.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s: %s; retry %d in %.1f s",
                spec.name,
                exc,
                state.attempt_number,
                state.upcoming_sleep,
            )

        remaining = max(0.0, self.remaining())
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(spec.max_attempts)
            | tenacity.stop_before_delay(remaining),
            wait=wait,
            retry=tenacity.retry_if_exception_type(TransientError),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._send_once, url, params)
        except TransientError as exc:
            raise type(exc)(
                f"{exc.detail} (gave up after {self.stats.retries + 1} attempt(s); "
                f"{self.remaining():.0f} s of the {spec.deadline_seconds:.0f} s deadline left)",
                source=exc.source,
                status=exc.status,
                **({"retry_after": exc.retry_after} if isinstance(exc, RateLimitedError) else {}),
            ) from None

    def _send_once(self, url: str, params: dict[str, Any]) -> Reply:
        spec = self.spec
        remaining = self.remaining()
        if remaining <= 0:
            raise ConnectorError(
                f"the fetch deadline of {spec.deadline_seconds:.0f} s has passed",
                source=spec.name,
            )
        if self._pause_before_next > 0:
            pause = min(self._pause_before_next, max(0.0, remaining - 1))
            self._pause_before_next = 0.0
            if pause > 0:
                log.info("%s: pausing %.1f s (rate-limit usage is high)", spec.name, pause)
                self.stats.paused_seconds += pause
                self._sleep(pause)
        try:
            acquired = _limiter(spec).try_acquire(
                spec.name, blocking=True, timeout=max(0.0, self.remaining())
            )
        except TimeoutError:
            acquired = False
        if not acquired:
            raise ConnectorError(
                f"the fetch deadline of {spec.deadline_seconds:.0f} s passed while waiting for "
                f"the rate limit ({spec.requests_per_second}/s)",
                source=spec.name,
            )
        query = dict(params)
        if spec.auth_param and self._key:
            query[spec.auth_param] = self._key
        parts = urlsplit(url)
        merged = [(k, v) for k, v in parse_qsl(parts.query) if k != spec.auth_param]
        merged += [(k, str(v)) for k, v in query.items()]
        full = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(merged), ""))
        timeout = max(0.05, min(spec.timeout_seconds, self.remaining()))
        started = time.monotonic()
        self.stats.requests += 1
        CONNECTOR_REQUESTS.labels(spec.name).inc()
        try:
            response = self._client.get(full, timeout=timeout)
        except httpx.TimeoutException:
            CONNECTOR_ERRORS.labels(spec.name, "timeout").inc()
            self.health.record(spec.name, ok=False, error=f"timed out after {timeout:.1f} s")
            raise TransientError(f"timed out after {timeout:.1f} s", source=spec.name) from None
        except httpx.TransportError as exc:
            message = f"connection failed ({type(exc).__name__})"
            CONNECTOR_ERRORS.labels(spec.name, "connection").inc()
            self.health.record(spec.name, ok=False, error=message)
            raise TransientError(message, source=spec.name) from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, UnicodeError) as exc:
            # e.g. a paging link httpx cannot parse: the message could quote the URL, with
            # the credential in it, so only the type is kept (not retried)
            message = f"the request could not be sent ({type(exc).__name__})"
            self.health.record(spec.name, ok=False, error=message)
            raise ApiError(message, source=spec.name) from None
        latency_ms = 1000 * (time.monotonic() - started)
        CONNECTOR_LATENCY.labels(spec.name).observe(latency_ms / 1000)
        log.info(
            "%s GET %s -> %d in %.0f ms",
            spec.name,
            scrub(full),
            response.status_code,
            latency_ms,
        )
        headroom = self.headroom(response)
        try:
            self.check(response)
        except ConnectorError as exc:
            CONNECTOR_ERRORS.labels(spec.name, f"http_{response.status_code}").inc()
            self.health.record(
                spec.name, ok=False, latency_ms=latency_ms, error=str(exc), headroom=headroom
            )
            raise
        self.health.record(spec.name, ok=True, latency_ms=latency_ms, headroom=headroom)
        return Reply(response.status_code, dict(response.headers), response.text)

    def pause_before_next(self, seconds: float) -> None:
        """Wait ``seconds`` before the next request (usage close to the limit)."""
        self._pause_before_next = max(self._pause_before_next, seconds)

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` is on the base URL's scheme and host (a ``next`` link may only
        carry the credential there)."""
        a, b = urlsplit(url), urlsplit(self.base_url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _checked_base_url(url: str, source: str) -> str:
    """``url`` without its trailing ``/``, if it is an http(s) URL with a host and no
    query (the credential is added as a query parameter), else a one-line error."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise ConnectorError(
            "--base-url is not an http(s) URL with a host (e.g. https://graph.facebook.com)",
            source=source,
        )
    if parts.username is not None or parts.password is not None:
        raise ConnectorError(
            "--base-url carries a user:password@ part: it would be logged and written to "
            "the provenance; give the proxy's credentials another way",
            source=source,
        )
    if parts.query or parts.fragment:
        raise ConnectorError(
            "--base-url has no query or fragment (the API root only)", source=source
        )
    return url.strip().rstrip("/")
