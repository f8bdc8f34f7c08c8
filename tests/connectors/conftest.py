"""Local fake servers of the Meta Marketing API and SEMrush, following their documented
shapes, on 127.0.0.1 (no test touches the network).

Each server keeps a log of the requests it received and a script of faults to answer
before serving normally (a 429 with ``Retry-After``, a 500, a Meta error code 17, a delay
longer than the client's timeout).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

SENTINEL = "SENTINEL-KEY-7f3a9c1e5b"


@dataclass
class FakeState:
    token: str = SENTINEL
    faults: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    usage_pct: int | None = None
    delay_seconds: float = 1.5
    base: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    empty_pages_at: set[int] = field(default_factory=set)


def _meta_rows() -> list[dict[str, Any]]:
    """3 campaigns x 20 days, with purchases on some days (Meta omits zero fields)."""
    rows = []
    start = date(2026, 9, 1)
    for c, campaign in enumerate(("23850001", "23850002", "23850003")):
        for d in range(20):
            day = (start + timedelta(days=d)).isoformat()
            impressions = 1000 + 37 * d + 500 * c
            clicks = 20 + d + 3 * c
            purchases = (d + c) % 4
            row: dict[str, Any] = {
                "campaign_id": campaign,
                "campaign_name": f"Spring sale {c + 1}",
                "date_start": day,
                "date_stop": day,
                "spend": f"{12.5 + d + 4 * c:.2f}",
                "impressions": str(impressions),
                "reach": str(int(impressions * 0.8)),
                "frequency": f"{1 / 0.8:.6f}",
            }
            if clicks:
                row["inline_link_clicks"] = str(clicks)
            if purchases:
                row["actions"] = [
                    {"action_type": "link_click", "value": str(clicks)},
                    {"action_type": "omni_purchase", "value": str(purchases)},
                    {"action_type": "purchase", "value": str(purchases)},
                    {
                        "action_type": "offsite_conversion.fb_pixel_purchase",
                        "value": str(purchases),
                    },
                ]
                row["action_values"] = [
                    {"action_type": "omni_purchase", "value": f"{purchases * 31.5:.2f}"},
                    {"action_type": "purchase", "value": f"{purchases * 31.5:.2f}"},
                ]
            rows.append(row)
    return rows


META_ROWS = _meta_rows()


def _meta_error(code: int, message: str, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123",
    }
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


def _cursor(row: int, tag: str = "") -> str:
    return base64.b64encode(f"row:{row}{tag}".encode()).decode()


def _cursor_row(cursor: str) -> int:
    return int(base64.b64decode(cursor).decode().removeprefix("row:").split(";")[0])


#: what the fake insists on, as the real edge would answer without it
_NEEDED_FIELDS = {"campaign_id", "date_start", "spend", "impressions", "actions", "action_values"}


def _insights_problem(query: dict[str, str]) -> str | None:
    if query.get("level") != "campaign":
        return "level must be campaign here"
    if query.get("time_increment") != "1":
        return "time_increment must be 1 here"
    try:
        window = json.loads(query.get("time_range", ""))
    except ValueError:
        return "time_range must be a JSON object"
    if not isinstance(window, dict) or set(window) != {"since", "until"}:
        return "time_range must be {'since': ..., 'until': ...}"
    if not _NEEDED_FIELDS <= set(query.get("fields", "").split(",")):
        return f"fields must include {sorted(_NEEDED_FIELDS)}"
    return None


class _Handler(BaseHTTPRequestHandler):
    state: FakeState
    kind: str

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.state.requests.append({"path": parts.path, "query": query, "raw": self.path})
        if self.state.faults:
            fault = self.state.faults.pop(0)
            if fault == "429":
                self._send(429, "Too Many Requests", {"Retry-After": "1"})
                return
            if fault == "500":
                self._send(500, "internal error")
                return
            if fault == "code17":
                body = _meta_error(17, "(#17) User request limit reached", 2446079)
                self._send(400, json.dumps(body), {"Content-Type": "application/json"})
                return
            if fault == "units":  # SEMrush: no API units left, on HTTP 200
                self._send(200, "ERROR 132 :: API UNITS BALANCE IS ZERO")
                return
            if fault == "slow":
                time.sleep(self.state.delay_seconds)
        if self.kind == "meta":
            self._meta(parts.path, query)
        else:
            self._semrush(query)

    # -- Meta: GET /v21.0/act_<id>/insights
    def _meta(self, path: str, query: dict[str, str]) -> None:
        if query.get("access_token") != self.state.token:
            body = _meta_error(190, "Invalid OAuth access token - Cannot parse access token")
            self._send(400, json.dumps(body), {"Content-Type": "application/json"})
            return
        if not re.fullmatch(r"/v21\.0/act_\d+/insights", path):
            body = _meta_error(100, "Unsupported get request.", 33)
            self._send(400, json.dumps(body), {"Content-Type": "application/json"})
            return
        problem = _insights_problem(query)
        if problem:
            body = _meta_error(100, f"(#100) {problem}")
            body["error"]["type"] = "GraphMethodException"
            self._send(400, json.dumps(body), {"Content-Type": "application/json"})
            return
        window = json.loads(query["time_range"])
        rows = [r for r in self.state.rows if window["since"] <= r["date_start"] <= window["until"]]
        limit = int(query.get("limit", 25))
        # a cursor marks a row: "after" = the last row of the page returned (Graph API
        # "Paginated Results"), and the next page starts after it
        start = _cursor_row(query["after"]) + 1 if "after" in query else 0
        if start in self.state.empty_pages_at:
            # "a page may be empty but contain a next paging link" (the same docs)
            self.state.empty_pages_at.discard(start)
            page: list[dict[str, Any]] = []
            last = start - 1
        else:
            page = rows[start : start + limit]
            last = start + len(page) - 1
        body: dict[str, Any] = {"data": page, "paging": {}}
        if page:
            body["paging"]["cursors"] = {"before": _cursor(start), "after": _cursor(last)}
            if start > 0:
                prev = {**query, "before": _cursor(start)}
                prev.pop("after", None)
                body["paging"]["previous"] = f"{self.state.base}{path}?{urlencode(prev)}"
        if last + 1 < len(rows):
            # Meta's next links carry the access token, as the real API's do; an empty
            # page's cursor is a new one (it moved past rows it could not show)
            nxt = {**query, "after": _cursor(last, "" if page else ";empty")}
            body["paging"]["next"] = f"{self.state.base}{path}?{urlencode(nxt)}"
        headers = {"Content-Type": "application/json"}
        if self.state.usage_pct is not None:
            usage = {
                "1234567890": [
                    {
                        "type": "ads_insights",
                        "call_count": self.state.usage_pct,
                        "total_cputime": 10,
                        "total_time": 12,
                        "estimated_time_to_regain_access": 0,
                    }
                ]
            }
            headers["x-business-use-case-usage"] = json.dumps(usage)
        self._send(200, json.dumps(body), headers)

    # -- SEMrush: GET /?type=phrase_this&key=...&phrase=...
    def _semrush(self, query: dict[str, str]) -> None:
        if query.get("key") != self.state.token:
            self._send(200, "ERROR 120 :: WRONG KEY - ID PAIR")
            return
        if query.get("type") != "phrase_this" or query.get("export_columns") != "Ph,Nq,Cp,Co":
            self._send(200, "ERROR 40 :: MANDATORY PARAMETER NOT SET")
            return
        if not query.get("database") or not query.get("phrase"):
            # phrase_this requires both (SEMrush Analytics API, Keyword Overview)
            self._send(200, "ERROR 40 :: MANDATORY PARAMETER NOT SET")
            return
        phrase = query.get("phrase", "")
        volumes = {"running shoes": (110000, 1.23, 1.0), "trail shoes": (22200, 0.98, 0.71)}
        if phrase not in volumes:
            self._send(200, "ERROR 50 :: NOTHING FOUND")
            return
        nq, cp, co = volumes[phrase]
        self._send(
            200,
            f"Keyword;Search Volume;CPC;Competition\r\n{phrase};{nq};{cp};{co}\r\n",
            {"Content-Type": "text/csv"},
        )


@dataclass
class FakeServer:
    url: str
    state: FakeState


def _serve(kind: str) -> Iterator[FakeServer]:
    state = FakeState(rows=_meta_rows())
    handler = type("Handler", (_Handler,), {"state": state, "kind": kind})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    state.base = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeServer(url, state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_meta() -> Iterator[FakeServer]:
    yield from _serve("meta")


@pytest.fixture
def fake_semrush() -> Iterator[FakeServer]:
    yield from _serve("semrush")


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Any:
    """A clean working folder (the caches go to its .simkit-cache) and no keys around."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIMKIT_CACHE_DIR", raising=False)
    for name in ("META_ACCESS_TOKEN", "SEMRUSH_API_KEY", "OPENAI_API_KEY", "SIMKIT_MASTER_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIMKIT_KEYS_BACKEND", "file")
    return tmp_path
