"""A local webhook (and HTTP sink) server for the operations tests: nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Sink:
    """What the local server received; ``fail_next`` answers that many posts with a 503."""

    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    fail_next: int = 0


@contextmanager
def serve() -> Iterator[Sink]:
    """A local HTTP server recording every POST (and PUT) it receives."""
    state: dict[str, Sink] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            box = state["sink"]
            box.paths.append(self.path)
            if box.fail_next > 0:
                box.fail_next -= 1
                self.send_response(503)
                self.end_headers()
                return
            box.raw.append(body)
            try:
                box.posts.append(json.loads(body or b"{}"))
            except ValueError:
                box.posts.append({"_raw": body.decode("utf-8", "replace")})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true, "status": 1}')

        do_PUT = do_POST  # noqa: N815 (the Pushgateway takes PUT)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["sink"] = Sink(f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000/SENTINEL")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["sink"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    with serve() as box:
        yield box
