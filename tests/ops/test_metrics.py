from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY as GLOBAL_REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from simkit import metrics

from .conftest import Sink

#: PromQL function names, keywords and label names that are not metrics.
_NOT_METRICS = {
    "histogram_quantile", "sum", "rate", "increase", "by", "le", "avg", "max", "min",
    "without", "on", "ignoring", "and", "or", "unless", "offset",
}  # fmt: skip


def _queries(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_every_grafana_query_names_a_metric_simkit_exports(repo_root: Path) -> None:
    dashboard = json.loads((repo_root / "ops" / "grafana" / "simkit.json").read_text())
    queries = _queries(dashboard)
    assert len(queries) >= 13
    exported = metrics.metric_names()
    seen = set()
    for query in queries:
        stripped = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"|\b(by|without)\s*\([^)]*\)", "", query)
        names = {
            n for n in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", stripped) if n not in _NOT_METRICS
        }
        names = {n for n in names if not re.fullmatch(r"[0-9.]+", n)}
        assert names, query
        assert names <= exported, (query, names - exported)
        seen |= names
    # and the dashboard shows every family simkit defines
    families = {f.name for f in metrics.REGISTRY.collect()}
    assert all(any(n.startswith(f) for n in seen) for f in families), families


def test_the_metrics_live_in_simkits_own_registry() -> None:
    own = {f.name for f in metrics.REGISTRY.collect()}
    global_names = {f.name for f in GLOBAL_REGISTRY.collect()}
    assert "simkit_run_duration_seconds" in own
    assert not any(n.startswith("simkit_") for n in global_names)


def test_textfile_and_pushgateway(tmp_path: Path, sink: Sink) -> None:
    metrics.RUNS.labels("succeeded").inc()
    out = metrics.write_textfile(tmp_path / "prom" / "simkit.prom")
    families = {f.name for f in text_string_to_metric_families(out.read_text())}
    assert "simkit_runs" in families and "simkit_run_duration_seconds" in families
    gateway = sink.url.split("/hooks")[0]
    metrics.push(gateway)
    assert sink.paths == ["/metrics/job/simkit"]
    assert b"simkit_runs_total" in sink.raw[0]


def test_a_purged_campaign_leaves_no_series() -> None:
    metrics.LEDGER_COVERAGE.labels("C777").set(0.8)
    assert b'campaign_id="C777"' in metrics.exposition()
    metrics.forget_campaign("C777")
    metrics.forget_campaign("C777")  # twice is fine
    assert b"C777" not in metrics.exposition()
