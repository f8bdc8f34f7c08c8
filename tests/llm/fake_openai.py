"""A fake OpenAI-compatible server: ``POST /v1/chat/completions`` on 127.0.0.1.

It answers in the documented Chat Completions shape (``id``, ``object``, ``created``,
``model``, ``choices[0].message.content`` / ``refusal``, ``finish_reason``, ``usage``), with
the reply's content chosen by the ``response_format`` schema's name, and can be told to
misbehave: a 429 with ``Retry-After``, a 500, a reply slower than the client's timeout, a
body that is not JSON, content that is not JSON, content that breaks the schema, a
narrative with a wrong number, assumptions out of range.

Every request is recorded (path, headers, body) so tests can count them and read what was
sent.  No request ever leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "gpt-4o-2024-08-06"
PROMPT_TOKENS, COMPLETION_TOKENS = 1200, 300


def _facts(body: dict[str, Any]) -> dict[str, Any]:
    user = body["messages"][-1]["content"]
    return json.loads(user[user.index("{") :])


def _fmt_count(x: float) -> str:
    return f"{x:,.0f}"


def narrative(facts: dict[str, Any], *, wrong: bool = False) -> str:
    """A paragraph whose numbers all come from ``facts`` (or one that does not)."""
    conv = facts.get("forecast.conversions.p50")
    lo, hi = facts.get("forecast.conversions.p10"), facts.get("forecast.conversions.p90")
    cpa = facts.get("recent.cpa")
    words = [
        f"Over the next {facts['horizon_days']} days the campaign is expected to deliver "
        f"{_fmt_count(conv)} conversions (80% interval {_fmt_count(lo)} to {_fmt_count(hi)})."
    ]
    if cpa:
        words.append(f"Its CPA over the last {facts['recent.days']} days was ${cpa:,.2f}.")
    if wrong:
        words.append("Competitors will raise prices by 37.5% next month.")
    return " ".join(words)


def assumptions(facts: dict[str, Any], *, out_of_range: bool = False) -> list[dict[str, Any]]:
    start = date.fromisoformat(facts["horizon_start"])
    end = date.fromisoformat(facts["horizon_end"])
    week = start + timedelta(days=6)
    none = {"cpm": None, "ctr": None, "cvr": None, "demand": None, "spend": None}
    out = [
        {
            **none,
            "name": "Competitor promotion week",
            "rationale": "A large competitor discounts in the first week; auctions heat up.",
            "start": start.isoformat(),
            "end": week.isoformat(),
            "cpm": {"low": 0.10, "high": 0.30},
            "ctr": {"low": -0.10, "high": 0.0},
        },
        {
            **none,
            "name": "Creative wear-out",
            "rationale": "The current creative has run for weeks; click-through slips.",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "ctr": {"low": -0.15, "high": -0.05},
        },
    ]
    if out_of_range:
        out[0]["cpm"] = {"low": 0.5, "high": 4.0}  # +400%: clipped to +100%
        out.append(
            {
                **none,
                "name": "Tracking outage",
                "rationale": "A tag change drops conversions.",
                "start": (end + timedelta(days=10)).isoformat(),  # outside: refused
                "end": (end + timedelta(days=20)).isoformat(),
                "cvr": {"low": -0.5, "high": -0.3},
            }
        )
    return out


def drivers(facts: dict[str, Any], bias: float = 0.0) -> list[dict[str, Any]]:
    """Daily rates: the last 14 days' day-of-week values (a seasonal naive, in words)."""
    last = facts["last_14_days"]
    out = []
    for i, d in enumerate(facts["horizon_dates"]):
        src = last[-7 + (i % 7)] if len(last) >= 7 else last[-1]
        out.append(
            {
                "date": d,
                "cpm": src["cpm"] * (1 + bias),
                "ctr": src["ctr"],
                "cvr": src["cvr"],
                "revenue_per_conversion": src["revenue_per_conversion"],
            }
        )
    return out


@dataclass
class Behaviour:
    """What the server does next.  ``script`` is consumed one entry per request (then
    ``default``); an entry is a mode name."""

    default: str = "ok"
    script: list[str] = field(default_factory=list)
    retry_after: str = "1"
    delay_seconds: float = 3.0
    wrong_number_for: set[str] = field(default_factory=set)
    out_of_range: bool = False
    driver_bias: float = 0.0
    content: Callable[[str, dict[str, Any]], Any] | None = None


class FakeOpenAI:
    """The server (start with :meth:`start`, stop with :meth:`stop`)."""

    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                body = json.loads(raw)
                with outer._lock:
                    outer.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    b = outer.behaviour
                    mode = b.script.pop(0) if b.script else b.default
                outer._answer(self, mode, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.behaviour = Behaviour()

    # -- answers ------------------------------------------------------------------------------

    def _send(self, h: BaseHTTPRequestHandler, status: int, payload: bytes, **headers: str) -> None:
        h.send_response(status)
        h.send_header("content-type", "application/json")
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        h.send_header("content-length", str(len(payload)))
        h.end_headers()
        try:
            h.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _error(self, h: BaseHTTPRequestHandler, status: int, kind: str, **headers: str) -> None:
        body = {"error": {"message": f"fake {kind}", "type": kind, "param": None, "code": None}}
        self._send(h, status, json.dumps(body).encode(), **headers)

    def _answer(self, h: BaseHTTPRequestHandler, mode: str, body: dict[str, Any]) -> None:
        b = self.behaviour
        if mode == "429":
            return self._error(h, 429, "rate_limit_exceeded", retry_after=b.retry_after)
        if mode == "500":
            return self._error(h, 500, "server_error")
        if mode == "timeout":
            time.sleep(b.delay_seconds)
        if mode == "not_json_body":
            return self._send(h, 200, b"<html>gateway says hello</html>")
        schema = body["response_format"]["json_schema"]["name"]
        facts = _facts(body)
        if mode == "not_json_content":
            content = "Sure! Here are the numbers you asked for."
        elif mode == "schema":
            content = json.dumps({"unexpected": True})
        elif b.content is not None:
            content = json.dumps(b.content(schema, facts))
        else:
            content = json.dumps(self._content(schema, facts))
        completion = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": PROMPT_TOKENS,
                "completion_tokens": COMPLETION_TOKENS,
                "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
            },
        }
        return self._send(h, 200, json.dumps(completion).encode())

    def _content(self, schema: str, facts: dict[str, Any]) -> dict[str, Any]:
        b = self.behaviour
        if schema == "NarrativeReply":
            wrong = str(facts.get("campaign_id")) in b.wrong_number_for
            return {"paragraph": narrative(facts, wrong=wrong)}
        if schema == "ScenarioReply":
            return {"assumptions": assumptions(facts, out_of_range=b.out_of_range)}
        if schema == "DriverReply":
            return {"days": drivers(facts, b.driver_bias)}
        raise AssertionError(f"unexpected schema {schema}")

    def schemas(self) -> list[str]:
        return [r["body"]["response_format"]["json_schema"]["name"] for r in self.requests]


def messages_text(server: FakeOpenAI) -> str:
    return "\n".join(m["content"] for r in server.requests for m in r["body"]["messages"])
