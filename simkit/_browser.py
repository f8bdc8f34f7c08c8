"""Headless Chromium settings shared by the browser tests and the dashboard bench.

Debian's ``chromium`` package (Playwright must not download its own browser here).  The
flags keep it from reaching for the network at start-up (component updates, sync, QUIC),
which the machines that run these tests refuse.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
