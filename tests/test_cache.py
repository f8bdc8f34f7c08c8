"""The shared cache (simkit.cache) on a real redis-server, its disk fallback, and the
forecast cache on Redis."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest
import redis

from simkit import cache as cache_module
from simkit.cache import DiskCache, open_cache
from simkit.data.synthetic import generate
from simkit.errors import ParamsError
from simkit.forecast import ForecastCache, forecast_campaign

SENTINEL = "s3cr3t-SENTINEL-pw"

pytestmark = pytest.mark.redis


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "_warned", set())


def _dead_url() -> str:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://:{SENTINEL}@127.0.0.1:{port}/0"


def test_redis_get_set_ttl_and_namespaces(redis_url: str, tmp_path: Path) -> None:
    llm = open_cache("llm", url=redis_url, directory=tmp_path)
    assert llm.backend == "redis"
    assert llm.get("question") is None
    llm.set("question", b"answer")
    assert llm.get("question") == b"answer"
    conn = open_cache("connectors", url=redis_url, directory=tmp_path)
    assert conn.get("question") is None, "namespaces never share keys"
    client = redis.Redis.from_url(redis_url)
    keys = [k.decode() for k in client.keys("simkit:*")]
    assert len(keys) == 1 and keys[0].startswith("simkit:llm:")
    assert client.ttl(keys[0]) == -1, "no TTL given, none by default"
    llm.set("short", b"x", ttl_seconds=0.3)
    assert llm.get("short") == b"x"
    time.sleep(0.6)
    assert llm.get("short") is None, "expired"
    daily = open_cache("llm", url=redis_url, directory=tmp_path, default_ttl=3600)
    daily.set("q2", b"a2")
    [key] = [k for k in client.keys("simkit:llm:*") if client.ttl(k) > 0]
    assert 3590 <= client.ttl(key) <= 3600
    client.close()
    assert (
        not (tmp_path / "shared" / "llm").exists()
        or DiskCache(tmp_path / "shared" / "llm").get("question") is None
    ), "Redis up: nothing written to disk"


def test_redis_down_uses_the_disk_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = _dead_url()
    with caplog.at_level(logging.WARNING, logger="simkit.cache"):
        first = open_cache("llm", url=url, directory=tmp_path)
        again = open_cache("llm", url=url, directory=tmp_path)
        first.set("k", b"v")
        assert again.get("k") == b"v", "the disk serves both"
    assert first.backend == "disk"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    message = warnings[0].getMessage()
    assert "unavailable" in message and "***" in message
    assert SENTINEL not in message, "the password never reaches a log line"
    assert not any(
        SENTINEL in p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()
    )


def test_redis_stopping_mid_use_falls_back_once(
    own_redis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, proc = own_redis
    shared = open_cache("connectors", url=url, directory=tmp_path)
    shared.set("a", b"1")
    assert shared.get("a") == b"1" and shared.backend == "redis"
    proc.kill()
    proc.wait(10)
    with caplog.at_level(logging.WARNING, logger="simkit.cache"):
        assert shared.get("a") is None, "the disk has never seen it"
        shared.set("b", b"2")
        assert shared.get("b") == b"2"
    assert shared.backend == "disk"
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_a_url_that_is_not_redis_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="must be a redis:// or rediss:// URL"):
        open_cache("llm", url="memcached://127.0.0.1:11211", directory=tmp_path)
    with pytest.raises(ParamsError, match="namespace"):
        open_cache("../up", directory=tmp_path)


def test_disk_cache_without_a_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIMKIT_CACHE_URL", raising=False)
    disk = open_cache("llm", directory=tmp_path)
    assert disk.backend == "disk"
    disk.set("k", b"v", ttl_seconds=0.3)
    assert disk.get("k") == b"v"
    time.sleep(0.6)
    assert disk.get("k") is None


@pytest.fixture(scope="module")
def world():
    return generate(1, 60, rng=np.random.default_rng(3))


def _fc(world, cache: ForecastCache):
    return forecast_campaign(world.data, "C001", 7, members=["seasonal_naive"], cache=cache)


def test_forecasts_are_shared_through_redis(world, redis_url: str, tmp_path: Path) -> None:
    one = ForecastCache(tmp_path / "a", url=redis_url)
    first = _fc(world, one)
    # two lookups when cold (the scored ensemble, and the fits inside it)
    assert one.stats()["backend"] == "redis" and (one.hits, one.misses) == (0, 2)
    # another process elsewhere (another folder) finds the fit in Redis
    other = ForecastCache(tmp_path / "b", url=redis_url)
    second = _fc(world, other)
    assert (other.hits, other.misses) == (1, 0)
    assert second.point_volumes().equals(first.point_volumes())
    client = redis.Redis.from_url(redis_url)
    keys = client.keys("simkit:forecast:*")
    assert len(keys) == 2
    assert all(0 < client.ttl(k) <= 7 * 24 * 3600 for k in keys), "fitted forecasts expire"
    client.close()
    assert not (tmp_path / "b").exists(), "nothing on disk while Redis answers"


def test_forecast_cache_falls_back_to_disk_when_redis_is_down(
    world, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIMKIT_CACHE_URL", _dead_url())
    with caplog.at_level(logging.WARNING, logger="simkit.cache"):
        cold = ForecastCache(tmp_path)
        _fc(world, cold)
        warm = ForecastCache(tmp_path)
        _fc(world, warm)
    assert (cold.hits, cold.misses, warm.hits) == (0, 2, 1), "the disk served the second"
    assert warm.stats()["backend"] == "disk"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and SENTINEL not in warnings[0].getMessage()
