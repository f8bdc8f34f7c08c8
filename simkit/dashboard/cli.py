"""``simkit dashboard``: resolve the data, write the served notebook, run Voila until stopped."""

from __future__ import annotations

import logging
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simkit import audit
from simkit._resources import dashboard_sample
from simkit.dashboard.guard import TOKEN_ID_VAR
from simkit.dashboard.model import MAX_HORIZON_DAYS, MIN_HORIZON_DAYS
from simkit.dashboard.server import (
    VoilaSettings,
    check_voila_version,
    is_loopback,
    prepare_notebook,
    repo_paths,
    voila_command,
    voila_env,
    wait_until_listening,
)
from simkit.data import load
from simkit.errors import SimkitError
from simkit.registry import Registry

__all__ = ["DEFAULT_DATA", "dashboard_parameters", "serve_dashboard"]

log = logging.getLogger(__name__)

#: The data shown when neither ``--data`` nor ``--run`` is given: the small sample shipped
#: with simkit (three campaigns, 70 days, with metadata).
DEFAULT_DATA = dashboard_sample()
_START_TIMEOUT_S = 90


def dashboard_parameters(
    *,
    data: Path | None,
    run_id: str | None,
    mapping: Path | None,
    n_paths: int,
    horizon_days: int,
    seed: int,
    registry: str | None = None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """The notebook's parameters: from ``--data`` or from a recorded run's parameters.

    The data are loaded once here, so a bad file fails with a one-line message before
    Voila starts.
    """
    if data is not None and run_id is not None:
        raise SimkitError("give --data or --run, not both")
    if run_id is not None:
        run = Registry(registry).get_run(run_id)
        params = run.get("params") or {}
        data_path = Path(params["data"])
        mapping_path = Path(params["mapping"]) if params.get("mapping") else None
        horizon_days = min(
            max(int(params.get("horizon_days", horizon_days)), MIN_HORIZON_DAYS), MAX_HORIZON_DAYS
        )
        seed = int(params.get("seed", seed))
        run_id = str(run["run_id"])
    else:
        data_path = Path(data) if data is not None else DEFAULT_DATA
        mapping_path = mapping
    load(data_path, mapping=mapping_path)
    return {
        "data": str(data_path.resolve()),
        "mapping": str(mapping_path.resolve()) if mapping_path else None,
        "run_id": run_id,
        "horizon_days": horizon_days,
        "n_paths": n_paths,
        "seed": seed,
        "workdir": str((workdir or Path.cwd()).resolve()),
    }


def _raise_interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def serve_dashboard(
    *,
    port: int,
    data: Path | None,
    run_id: str | None,
    mapping: Path | None,
    token: str | None,
    ip: str,
    n_paths: int,
    horizon_days: int,
    seed: int,
    preheat: bool,
    registry: str | None,
    announce: Callable[[dict[str, Any]], None],
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> None:
    """Start Voila on the dashboard notebook and block until it stops or is interrupted."""
    voila_version = check_voila_version()
    generated = token == "auto"
    if generated:
        token = secrets.token_urlsafe(24)
    settings = VoilaSettings(
        notebook="",
        ip=ip,
        port=port,
        token=token,
        preheat_kernel=preheat,
        certfile=str(certfile.resolve()) if certfile else None,
        keyfile=str(keyfile.resolve()) if keyfile else None,
    )
    parameters = dashboard_parameters(
        data=data,
        run_id=run_id,
        mapping=mapping,
        n_paths=n_paths,
        horizon_days=horizon_days,
        seed=seed,
        registry=registry,
    )
    paths = repo_paths()
    folder = Path(tempfile.mkdtemp(prefix="simkit-dashboard-"))
    process: subprocess.Popen[bytes] | None = None
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        notebook = prepare_notebook(paths["notebook"], parameters, folder)
        settings = settings.model_copy(update={"notebook": str(notebook)})
        extra = {"SIMKIT_REGISTRY_URL": registry} if registry else {}
        # the kernels' metrics are summed by the server's /metrics (multiprocess mode), and
        # they audit by the token's identity, never the token
        metrics_dir = folder / "metrics"
        metrics_dir.mkdir()
        extra["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        extra[TOKEN_ID_VAR] = audit.token_id(token) or "none"
        process = subprocess.Popen(
            voila_command(settings),
            cwd=folder,
            env=voila_env(settings, jupyter_path=paths["jupyter_path"], extra=extra),
        )
        host = ip if is_loopback(ip) else "127.0.0.1"
        seconds = wait_until_listening(host, port, _START_TIMEOUT_S, process)
        url = settings.url
        info = {
            "url": url,
            "pid": process.pid,
            "voila": voila_version,
            "listening_after_seconds": seconds,
            "data": parameters["data"],
            "run_id": parameters["run_id"],
            "token_required": token is not None,
        }
        if generated:
            info["url"] = f"{url}?token={token}"
        announce(info)
        process.wait()
        if process.returncode not in (0, -signal.SIGTERM, -signal.SIGINT):
            raise SimkitError(f"voila stopped with exit code {process.returncode}")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(folder, ignore_errors=True)
