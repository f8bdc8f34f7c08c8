"""One client for every model call simkit makes: the official ``openai`` SDK, bounded.

Every call goes through :meth:`LLMClient.parse`, which

* answers from the reply cache when it can (:mod:`simkit.llm.cache`), counting the hit;
* reads the key at call time through :func:`_api_key` (``OPENAI_API_KEY``; the SDK reads
  ``OPENAI_BASE_URL`` itself), so no key is ever a default, a parameter or an attribute
  that could be pickled, cached or printed;
* waits for the client-side rate limits (requests and tokens per minute, pyrate-limiter,
  shared by the run's worker processes through a small SQLite file beside the cache);
* calls Chat Completions with structured outputs (``client.chat.completions.parse`` with
  a pydantic ``response_format``), a per-request timeout (30 s by default), the SDK's
  ``max_retries`` (which honours ``Retry-After`` on 429 and 5xx), every wait and timeout
  cut to what is left of the run's deadline;
* records tokens and cost in a :class:`~simkit.llm.usage.Usage`;
* turns every failure into an :class:`LLMError` with a short ``kind`` and a one-line
  message that never holds the key or the server's reply text.

Callers catch :class:`LLMError` and fall back (the template narrative, no model scenarios,
the fallback member): a model that fails never fails a report.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from simkit import keys
from simkit.errors import SimkitError
from simkit.llm.cache import DEFAULT_CACHE_DIR, DiskReplyCache, NoCache, ReplyCache, cache_key
from simkit.llm.usage import Usage
from simkit.params import LLMOptions

__all__ = [
    "DEADLINE_ENV",
    "Deadline",
    "LLMClient",
    "LLMError",
    "LLMReply",
    "has_api_key",
]

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)

#: A run's deadline (epoch seconds), set by the runner for its workers and kernels.
DEADLINE_ENV = "SIMKIT_LLM_DEADLINE_AT"
_KEY_ENV = "OPENAI_API_KEY"


def _api_key() -> str | None:
    """The API key, read now: the ``OPENAI_API_KEY`` environment variable, else simkit's
    key store (``simkit keys set OPENAI_API_KEY``; :func:`simkit.keys.get_key`, which also
    registers the value with the log scrubber).  ``None`` when neither has it.

    The one accessor of the key: nothing else reads it.
    """
    if os.environ.get(_KEY_ENV, "").strip():
        return os.environ[_KEY_ENV].strip()
    try:
        if not keys.has_key(_KEY_ENV):
            return None
        return keys.get_key(_KEY_ENV).strip() or None
    except keys.KeyStoreError as exc:
        log.info("no usable %s in the key store: %s", _KEY_ENV, exc)
        return None


def has_api_key() -> bool:
    """Whether a key is configured (without returning it)."""
    return _api_key() is not None


class LLMError(SimkitError):
    """A model call that gave no usable reply; ``kind`` says why in one word.

    Kinds: ``no_key``, ``deadline``, ``rate_limit``, ``timeout``, ``unreachable``,
    ``http`` (a status the SDK gave up on), ``malformed`` (not JSON), ``schema`` (JSON
    that breaks the reply's schema), ``refused`` (a refusal, a cut or filtered reply).
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True)
class LLMReply:
    """A parsed reply: the pydantic object, the model that wrote it, whether it was cached."""

    parsed: BaseModel
    model: str
    cached: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Deadline:
    """The moment (epoch seconds) after which no model call starts or waits."""

    at: float

    @classmethod
    def for_run(cls, seconds: float) -> Deadline:
        """The run's deadline from :data:`DEADLINE_ENV` if the runner set one, else
        ``seconds`` from now."""
        raw = os.environ.get(DEADLINE_ENV)
        try:
            at = float(raw) if raw else math.nan
        except ValueError:
            at = math.nan
        return cls(at if math.isfinite(at) else time.time() + seconds)

    def remaining(self) -> float:
        return self.at - time.time()


def _one_line(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "[key]")
    return " ".join(text.split())[:300]


class LLMClient:
    """Structured model calls with cache, limits, deadline and accounting.

    Parameters
    ----------
    model
        The model's name at the server (``llm_model``; default ``gpt-4o``).
    options
        Timeouts, retries, rate limits, deadline and prices (:class:`~simkit.params.LLMOptions`).
    cache
        Where replies are kept; default: ``.simkit-cache/llm`` when ``options.cache``.
    usage
        The counters to add to (default: a new :class:`Usage`, at :attr:`usage`).
    deadline
        Default: :meth:`Deadline.for_run` with ``options.deadline_seconds``.
    state_dir
        Folder of the cache and of the rate limiter's shared state.

    Examples
    --------
    >>> client = LLMClient("gpt-4o", LLMOptions(cache=False))  # doctest: +SKIP
    >>> client.parse(messages, NarrativeReply).parsed.paragraph  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str = "gpt-4o",
        options: LLMOptions | None = None,
        *,
        cache: ReplyCache | None = None,
        usage: Usage | None = None,
        deadline: Deadline | None = None,
        state_dir: str | Path = DEFAULT_CACHE_DIR,
    ) -> None:
        self.model = model
        self.options = options or LLMOptions()
        self.state_dir = Path(state_dir)
        if cache is None:
            cache = DiskReplyCache(self.state_dir) if self.options.cache else NoCache()
        self.cache = cache
        self.usage = usage if usage is not None else Usage()
        self.deadline = deadline or Deadline.for_run(self.options.deadline_seconds)
        self._limiters: tuple[Any, Any] | None = None

    # -- the call -----------------------------------------------------------------------------

    def parse(self, messages: Sequence[dict[str, str]], schema: type[T]) -> LLMReply:
        """The reply to ``messages`` parsed into ``schema``; :class:`LLMError` otherwise."""
        messages = [{"role": m["role"], "content": m["content"]} for m in messages]
        key = cache_key(self.model, messages, schema.model_json_schema())
        hit = self.cache.get(key)
        if hit is not None:
            try:
                parsed = schema.model_validate_json(hit["content"])
            except (ValidationError, KeyError, TypeError):
                parsed = None
            if parsed is not None:
                self.usage.cache_hits += 1
                return LLMReply(parsed, str(hit.get("model") or self.model), True)
        self.usage.cache_misses += 1
        try:
            reply, content = self._call(messages, schema)
        except LLMError as exc:
            self.usage.failures += 1
            log.info("model call failed (%s): %s", exc.kind, exc)
            raise
        self.cache.set(
            key,
            {
                "content": content,
                "model": reply.model,
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
            },
        )
        return reply

    def _call(self, messages: list[dict[str, str]], schema: type[T]) -> tuple[LLMReply, str]:
        import openai

        secret = _api_key()
        if secret is None:
            raise LLMError(
                "no_key", f"no API key: {_KEY_ENV} is not set (environment or simkit keys)"
            )
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise LLMError("deadline", "the run's deadline for model calls has passed")
        self._wait_for_limits(messages, remaining)
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise LLMError("deadline", "the run's deadline passed while waiting for the rate limit")
        sdk = _DeadlineOpenAI(
            api_key=secret,
            timeout=min(self.options.timeout_seconds, remaining),
            max_retries=self.options.max_retries,
        )
        sdk._simkit_deadline = self.deadline.at
        self.usage.requests += 1
        try:
            completion = sdk.chat.completions.parse(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                response_format=schema,
                temperature=0,
                max_completion_tokens=self.options.max_completion_tokens,
            )
        except openai.APITimeoutError:
            raise LLMError(
                "timeout", f"no reply within {min(self.options.timeout_seconds, remaining):.0f} s"
            ) from None
        except openai.RateLimitError as exc:
            raise LLMError(
                "rate_limit", f"the server refused for rate limits (HTTP {exc.status_code})"
            ) from None
        except openai.APIStatusError as exc:
            raise LLMError("http", f"the server answered HTTP {exc.status_code}") from None
        except openai.APIConnectionError as exc:
            raise LLMError(
                "unreachable", _one_line(f"cannot reach the server: {type(exc).__name__}", secret)
            ) from None
        except openai.APIResponseValidationError:
            raise LLMError("malformed", "the server's response is not a chat completion") from None
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
            raise LLMError(
                "refused", _one_line(f"the reply was cut: {type(exc).__name__}", secret)
            ) from None
        except ValidationError as exc:
            kind = (
                "malformed" if any(e["type"] == "json_invalid" for e in exc.errors()) else "schema"
            )
            what = "is not JSON" if kind == "malformed" else "breaks the schema"
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "reply"
            raise LLMError(
                kind, _one_line(f"the reply {what} ({where}: {first['msg']})", secret)
            ) from None
        except json.JSONDecodeError:
            raise LLMError("malformed", "the server's response is not JSON") from None
        finally:
            sdk.close()
        return self._reply(completion, schema, secret)

    def _reply(self, completion: Any, schema: type[T], secret: str) -> tuple[LLMReply, str]:
        if not getattr(completion, "choices", None):
            raise LLMError("malformed", "the server's response has no choices")
        message = completion.choices[0].message
        if getattr(message, "refusal", None):
            raise LLMError("refused", "the model refused to answer")
        parsed = getattr(message, "parsed", None)
        if not isinstance(parsed, schema):
            raise LLMError("schema", "the reply has no content in the schema")
        model = str(getattr(completion, "model", None) or self.model)
        usage = getattr(completion, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        done = int(getattr(usage, "completion_tokens", 0) or 0)
        self._account(model, prompt, done)
        content = message.content or parsed.model_dump_json()
        return LLMReply(parsed, model, False, prompt, done), content

    def _account(self, model: str, prompt: int, done: int) -> None:
        u = self.usage
        u.prompt_tokens += prompt
        u.completion_tokens += done
        u.add_model(model)
        price = self.options.price(self.model) or self.options.price(model)
        if price is None:
            u.unpriced_tokens += prompt + done
        else:
            u.cost_usd += (prompt * price.input_per_million + done * price.output_per_million) / 1e6

    # -- rate limits --------------------------------------------------------------------------

    def _wait_for_limits(self, messages: list[dict[str, str]], remaining: float) -> None:
        requests, tokens = self._limits()
        # about four characters a token, plus the reply's cap
        estimate = (
            sum(len(m["content"]) for m in messages) // 4 + self.options.max_completion_tokens
        )
        weight = max(1, min(estimate, self.options.tokens_per_minute))
        for limiter, w, what in ((requests, 1, "requests"), (tokens, weight, "tokens")):
            if not limiter.try_acquire(what, weight=w, blocking=True, timeout=max(remaining, 0)):
                raise LLMError(
                    "deadline", f"the {what}-per-minute limit leaves no room before the deadline"
                )

    def _limits(self) -> tuple[Any, Any]:
        if self._limiters is None:
            from pyrate_limiter import Duration, Limiter, Rate, limiter_factory

            o = self.options
            made = []
            for name, limit in (
                ("requests", o.requests_per_minute),
                ("tokens", o.tokens_per_minute),
            ):
                rate = [Rate(limit, Duration.MINUTE)]
                try:
                    self.state_dir.mkdir(parents=True, exist_ok=True)
                    bucket = limiter_factory.create_sqlite_bucket(
                        rate, str(self.state_dir / f"limit-{name}.sqlite"), use_file_lock=True
                    )
                    made.append(Limiter(bucket))
                except Exception as exc:  # noqa: BLE001 - a private limit still holds
                    log.info("shared rate limit unavailable (%s); limiting this process", exc)
                    made.append(Limiter(rate))
            self._limiters = (made[0], made[1])
        return self._limiters


def _sdk_class() -> type:
    import openai

    class _DeadlineOpenAIImpl(openai.OpenAI):
        """The SDK's client, whose retry waits (``Retry-After`` included) never pass the
        run's deadline."""

        _simkit_deadline: float = math.inf

        def _calculate_retry_timeout(self, *args: Any, **kwargs: Any) -> float:
            wait = float(super()._calculate_retry_timeout(*args, **kwargs))
            return max(0.0, min(wait, self._simkit_deadline - time.time()))

    return _DeadlineOpenAIImpl


class _LazySDK:
    """Builds the SDK subclass on first use (``openai`` is imported only when a call is made)."""

    _cls: type | None = None

    def __call__(self, **kwargs: Any) -> Any:
        if _LazySDK._cls is None:
            _LazySDK._cls = _sdk_class()
        return _LazySDK._cls(**kwargs)


_DeadlineOpenAI = _LazySDK()
