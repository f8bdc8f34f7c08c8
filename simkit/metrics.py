"""simkit's own health metrics, in one Prometheus registry (never the global one).

Every metric simkit exports is defined here, so the runner, the dashboard, the LLM client,
the connectors and the ledger increment the same objects, and the Grafana dashboard
(``ops/grafana/simkit.json``) can be checked against :func:`metric_names`.

How they leave the process:

* :func:`write_textfile`: after each run, to the file named by ``metrics_textfile:`` in
  the params (node_exporter's textfile collector reads it);
* :func:`push`: to a Pushgateway when ``pushgateway_url:`` is set in the params;
* :func:`exposition`: the dashboard serves it at ``/metrics``.

Labels never carry a secret; the only per-campaign labels are the ledger's (a purge
removes their series, :func:`forget_campaign`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    push_to_gateway,
    write_to_textfile,
)

__all__ = [
    "count_llm_usage",
    "CACHE_HITS",
    "CACHE_MISSES",
    "CONNECTOR_ERRORS",
    "CONNECTOR_LATENCY",
    "CONNECTOR_REQUESTS",
    "DASHBOARD_PREVIEWS",
    "DASHBOARD_PREVIEW_LATENCY",
    "FAILURES",
    "LEDGER_COVERAGE",
    "LEDGER_ERROR",
    "LLM_COST",
    "LLM_TOKENS",
    "REGISTRY",
    "REPORT_DURATION",
    "RUNS",
    "RUN_DURATION",
    "WEBHOOK_MESSAGES",
    "exposition",
    "forget_campaign",
    "metric_names",
    "push",
    "write_textfile",
]

REGISTRY = CollectorRegistry(auto_describe=True)

_SECONDS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
_FAST = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

RUN_DURATION = Histogram(
    "simkit_run_duration_seconds",
    "Wall time of a simkit run, from start to index",
    ["status"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
REPORT_DURATION = Histogram(
    "simkit_report_duration_seconds",
    "Wall time of one campaign report, from its start to its publication or failure",
    ["status"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
RUNS = Counter("simkit_runs", "Runs finished, by status", ["status"], registry=REGISTRY)
FAILURES = Counter(
    "simkit_failures",
    "Failures by kind (timeout, kernel_died, error, run, dashboard, ...)",
    ["kind"],
    registry=REGISTRY,
)
CACHE_HITS = Counter("simkit_cache_hits", "Cache hits, by cache", ["cache"], registry=REGISTRY)
CACHE_MISSES = Counter(
    "simkit_cache_misses", "Cache misses, by cache", ["cache"], registry=REGISTRY
)
LLM_TOKENS = Counter(
    "simkit_llm_tokens", "LLM tokens used", ["model", "direction"], registry=REGISTRY
)
LLM_COST = Counter("simkit_llm_cost_usd", "LLM spend in US dollars", ["model"], registry=REGISTRY)
CONNECTOR_REQUESTS = Counter(
    "simkit_connector_requests", "Requests to a data connector", ["connector"], registry=REGISTRY
)
CONNECTOR_ERRORS = Counter(
    "simkit_connector_errors",
    "Failed connector requests, by kind",
    ["connector", "kind"],
    registry=REGISTRY,
)
CONNECTOR_LATENCY = Histogram(
    "simkit_connector_latency_seconds",
    "Latency of a connector request",
    ["connector"],
    buckets=_FAST,
    registry=REGISTRY,
)
LEDGER_COVERAGE = Gauge(
    "simkit_ledger_coverage_ratio",
    "Share of the ledger's forecasts whose outcome fell inside the 80% interval",
    ["campaign_id"],
    registry=REGISTRY,
    multiprocess_mode="max",
)
LEDGER_ERROR = Gauge(
    "simkit_ledger_error_ratio",
    "The ledger's forecast error against outcomes (MASE, its scores' mase)",
    ["campaign_id"],
    registry=REGISTRY,
    multiprocess_mode="max",
)
DASHBOARD_PREVIEWS = Counter(
    "simkit_dashboard_previews", "What-if previews computed by the dashboard", registry=REGISTRY
)
DASHBOARD_PREVIEW_LATENCY = Histogram(
    "simkit_dashboard_preview_latency_seconds",
    "Time from pressing Preview to the updated chart's numbers",
    buckets=_FAST,
    registry=REGISTRY,
)
WEBHOOK_MESSAGES = Counter(
    "simkit_webhook_messages",
    "Alert messages to the webhook, by outcome (sent, duplicate, failed)",
    ["outcome"],
    registry=REGISTRY,
)


def metric_names() -> set[str]:
    """Every sample name simkit exports (``_total``, ``_bucket``, ``_sum``... included)."""
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        for suffix in ("_total", "_created", "_bucket", "_sum", "_count"):
            names.add(family.name + suffix)
    return names


def exposition() -> bytes:
    """The metrics in Prometheus' text format (what ``/metrics`` serves)."""
    return generate_latest(REGISTRY)


def write_textfile(path: str | Path) -> Path:
    """Write the metrics for node_exporter's textfile collector (atomically: a temporary
    file renamed into place, so the collector never reads half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(os.fspath(path), REGISTRY)
    return path


def push(gateway: str, *, job: str = "simkit", timeout_seconds: float = 5.0) -> None:
    """Push the metrics to a Prometheus Pushgateway (``http://host:9091``)."""
    push_to_gateway(gateway, job=job, registry=REGISTRY, timeout=timeout_seconds)


def forget_campaign(campaign_id: str) -> None:
    """Drop the per-campaign series of ``campaign_id`` (a purge)."""
    for gauge in (LEDGER_COVERAGE, LEDGER_ERROR):
        try:
            gauge.remove(campaign_id)
        except KeyError:
            pass


def count_llm_usage(usage: dict[str, Any]) -> None:
    """Add a run's language-model usage (:meth:`simkit.llm.usage.Usage.to_dict`) to the
    token and cost counters and to the ``llm`` cache's hits and misses.  The usage is a run
    total, so a run that asked several models labels them together (``gpt-4o,gpt-4o-mini``)."""
    model = ",".join(usage.get("models") or []) or "unknown"
    for direction in ("prompt", "completion"):
        tokens = int(usage.get(f"{direction}_tokens") or 0)
        if tokens:
            LLM_TOKENS.labels(model, direction).inc(tokens)
    cost = float(usage.get("cost_usd") or 0.0)
    if cost:
        LLM_COST.labels(model).inc(cost)
    for counter, key in ((CACHE_HITS, "cache_hits"), (CACHE_MISSES, "cache_misses")):
        n = int(usage.get(key) or 0)
        if n:
            counter.labels("llm").inc(n)
