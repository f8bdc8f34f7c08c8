"""``data`` and ``output_dir`` as ``s3://`` URLs, against moto's S3 server on 127.0.0.1
(no network): the data is read from the bucket, the run is published to it, staged then
moved, with no staged object left."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from simkit.params import RunParams
from simkit.paths import safe_name
from simkit.registry import Registry
from simkit.runner import run_batch
from simkit.runner.remote import is_remote

from .conftest import LEAN

SECRET = "SENTINEL-secret-key-0123"


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("s3fs")
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("simkit-test")
    try:
        yield fs
    finally:
        server.stop()


def test_is_remote() -> None:
    assert is_remote("s3://b/k.csv") and is_remote("gs://b/k")
    assert not is_remote("data/k.csv") and not is_remote("file:///tmp/k.csv")
    assert not is_remote(None)


@pytest.mark.slow
def test_a_run_reads_and_publishes_s3(
    s3, tmp_path: Path, test_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.environ.setdefault("TQDM_DISABLE", "1")
    s3.put_file(str(test_data / "report" / "campaigns.csv"), "simkit-test/in/campaigns.csv")
    params = RunParams(
        data="s3://simkit-test/in/campaigns.csv",
        campaigns=["C001", "C002"],
        output_dir="s3://simkit-test/reports/weekly",
        publish="summary",
        **LEAN,
    )
    registry = Registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    result = run_batch(params, workers=1, registry=registry, progress=False)
    assert result.ok, [o.error for o in result.failed]
    assert [p.name for p in (tmp_path / ".simkit-cache" / "remote").rglob("*.csv")] == [
        "campaigns.csv"
    ], "the data was fetched once from the bucket"
    keys = {k.removeprefix("simkit-test/reports/weekly/") for k in s3.find("simkit-test/reports")}
    for cid in ("C001", "C002"):
        assert f"{safe_name(cid)}/summary.json" in keys
    assert {"index.html", "run.json", "pivots.json"} <= keys
    assert not [k for k in keys if ".staging" in k], "nothing staged is left"
    manifest = json.loads(s3.cat_file("simkit-test/reports/weekly/run.json"))
    assert manifest["run_id"] == result.run_id
    index = s3.cat_file("simkit-test/reports/weekly/index.html").decode()
    assert f'href="{safe_name("C001")}/summary.json"' in index
    for key in s3.find("simkit-test/reports"):
        assert SECRET.encode() not in s3.cat_file(key), key
