"""The dashboard server's surface: HTTPS, /metrics, and no Jupyter API but Voila's.

One real ``simkit dashboard`` (HTTPS with a self-signed certificate, a token), asked from
127.0.0.1 only, with and without the token.
"""

from __future__ import annotations

import datetime
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

pytestmark = pytest.mark.slow  # starts Voila: 10-30 s on the shared machine

TOKEN = "SENTINEL-token-0123456789abcdef"


@dataclass
class Served:
    url: str
    cert: Path
    log: Path


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("dash")
    cert, key = _self_signed(folder)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMKIT_")}
    log = folder / "dashboard.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simkit.cli",
                "dashboard",
                "--port",
                str(port),
                "--no-preheat",
                "--token",
                TOKEN,
                "--certfile",
                str(cert),
                "--keyfile",
                str(key),
                "--format",
                "json",
            ],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        t0 = time.monotonic()
        while b'"url"' not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() - t0 > 120:
                pytest.fail(f"the dashboard did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield Served(f"https://127.0.0.1:{port}", cert, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _get(served: Served, path: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.get(served.url + path, headers=headers, verify=_trust(served), timeout=30)


def _trust(served: Served) -> ssl.SSLContext:
    """Trust the self-signed certificate only (certificates are checked, not skipped)."""
    return ssl.create_default_context(cafile=str(served.cert))


def test_the_dashboard_speaks_https_only(served: Served) -> None:
    assert _get(served, "/", TOKEN).status_code == 200
    assert _get(served, "/").status_code in (302, 403)  # no token: no page
    assert _get(served, "/", "wrong-token-0123456789").status_code in (302, 403)
    # a plain-HTTP request gets no page: the TLS server drops it
    with pytest.raises(httpx.TransportError, match=r"(?i)reset|disconnect|closed|protocol"):
        httpx.get(served.url.replace("https", "http") + "/", timeout=10)


def test_metrics_need_the_token(served: Served) -> None:
    assert _get(served, "/metrics").status_code == 403
    assert _get(served, "/metrics", "wrong-token-0123456789").status_code == 403
    ok = _get(served, "/metrics", TOKEN)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain")
    # summed over the server and its kernels (prometheus_client's multiprocess files)
    assert "simkit_dashboard_previews_total" in ok.text
    query = httpx.get(served.url + "/metrics?token=" + TOKEN, verify=_trust(served))
    assert query.status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/api/contents", "/api/contents/", "/terminals", "/api/terminals", "/api/kernels",
     "/api/sessions", "/tree", "/lab", "/notebooks", "/api/kernelspecs"],
)  # fmt: skip
@pytest.mark.parametrize("token", [None, TOKEN], ids=["no-token", "token"])
def test_no_jupyter_api_but_voilas(served: Served, path: str, token: str | None) -> None:
    response = _get(served, path, token)
    assert response.status_code in (302, 403, 404, 405), (path, response.status_code)
    assert "kernel" not in response.text.lower() or response.status_code != 200


def test_the_token_is_not_logged(served: Served) -> None:
    _get(served, "/?token=" + TOKEN)
    assert TOKEN.encode() not in served.log.read_bytes()
