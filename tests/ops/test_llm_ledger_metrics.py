"""The language model's usage and the ledger's forecast health reach the metrics."""

from __future__ import annotations

from simkit import metrics


def _value(name: str, labels: dict[str, str]) -> float:
    got = metrics.REGISTRY.get_sample_value(name, labels)
    return 0.0 if got is None else got


def test_a_runs_llm_usage_is_counted_by_model_and_direction() -> None:
    model = "gpt-4o-test-counting"
    before = {
        "prompt": _value("simkit_llm_tokens_total", {"model": model, "direction": "prompt"}),
        "cost": _value("simkit_llm_cost_usd_total", {"model": model}),
        "hits": _value("simkit_cache_hits_total", {"cache": "llm"}),
    }
    metrics.count_llm_usage(
        {
            "models": [model],
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "cost_usd": 0.0105,
            "cache_hits": 2,
            "cache_misses": 1,
        }
    )
    labels = {"model": model, "direction": "prompt"}
    assert _value("simkit_llm_tokens_total", labels) - before["prompt"] == 1200
    completion = {"model": model, "direction": "completion"}
    assert _value("simkit_llm_tokens_total", completion) == 300
    assert _value("simkit_llm_cost_usd_total", {"model": model}) - before["cost"] == 0.0105
    assert _value("simkit_cache_hits_total", {"cache": "llm"}) - before["hits"] == 2
