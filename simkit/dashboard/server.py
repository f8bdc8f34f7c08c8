"""Serving the dashboard with Voila: the settings, the command line, the served notebook.

The settings are fixed here (and checked by a test), not left to whoever starts Voila:

* sources stripped and tracebacks hidden (a stakeholder sees widgets and short messages);
* one notebook served, never a folder: a parameterised copy of
  ``notebooks/whatif_dashboard.ipynb`` alone in a private temporary folder;
* idle kernels culled (``cull_idle_timeout`` 120 s, checked every ``cull_interval`` 60 s;
  Voila never culls its pre-heated pool kernel);
* a per-cell execution timeout;
* the ``offline`` template of ``share/jupyter/voila/templates/`` (no Font Awesome CDN link);
* a pre-heated kernel (``--preheat_kernel``) so the first page paints from a kernel that has
  already run the notebook;
* an access token required for any address that is not loopback.  The token reaches Voila
  through the ``JUPYTER_TOKEN`` environment variable, never the command line (which other
  users can read in the process list).

``voila>=0.5.6`` is required: 0.5.6 fixed a security advisory about how Voila serves
static files.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from simkit._resources import notebook, resource_dir
from simkit.errors import ParamsError, SimkitError
from simkit.params import check_parameter_names

__all__ = [
    "MIN_VOILA",
    "NOTEBOOK_NAME",
    "VoilaSettings",
    "check_voila_version",
    "is_loopback",
    "prepare_notebook",
    "repo_paths",
    "voila_command",
    "voila_env",
    "wait_until_listening",
]

MIN_VOILA = (0, 5, 6)
NOTEBOOK_NAME = "whatif_dashboard.ipynb"
_LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(ip: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if ip in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


class VoilaSettings(BaseModel):
    """How Voila serves the dashboard (see the module docstring for the fixed choices).

    Attributes
    ----------
    notebook
        The one notebook served.
    ip, port
        Where Voila listens.
    token
        Access token; required when ``ip`` is not loopback.
    preheat_kernel, pool_size
        Pre-heated kernels kept ready per notebook.
    cull_idle_timeout, cull_interval
        Seconds of idleness before a kernel is shut down, and how often that is checked.
    execution_timeout
        Seconds a notebook cell may run before Voila stops it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    notebook: str
    ip: str = "127.0.0.1"
    port: int = Field(8866, ge=1024, le=65535)
    token: SecretStr | None = None
    preheat_kernel: bool = True
    pool_size: int = Field(1, ge=0, le=4)
    cull_idle_timeout: int = Field(120, ge=10, le=86_400)
    cull_interval: int = Field(60, ge=5, le=3_600)
    execution_timeout: int = Field(120, ge=10, le=1_800)
    certfile: str | None = None
    keyfile: str | None = None

    def model_post_init(self, _context: Any) -> None:
        for name in ("certfile", "keyfile"):
            value = getattr(self, name)
            if value is not None and not Path(value).is_file():
                raise ParamsError(f"{value} is not a file", field=name)
        if self.keyfile and not self.certfile:
            raise ParamsError("a --keyfile needs its --certfile", field="keyfile")
        if not is_loopback(self.ip) and (self.token is None or not self.token.get_secret_value()):
            raise ParamsError(
                f"serving on {self.ip} (beyond this machine) needs an access token: pass "
                "--token or set SIMKIT_DASHBOARD_TOKEN",
                field="token",
            )
        if self.token is not None and len(self.token.get_secret_value()) < 16:
            raise ParamsError("the access token must have at least 16 characters", field="token")

    @property
    def url(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        scheme = "https" if self.certfile else "http"
        return f"{scheme}://{host}:{self.port}/"


def voila_command(settings: VoilaSettings) -> list[str]:
    """The Voila command line for these settings (the token is not on it; see
    :func:`voila_env`)."""
    args = [
        sys.executable,
        "-m",
        "simkit.dashboard.voila_app",  # Voila plus /metrics and TLS
        settings.notebook,
        "--no-browser",
        f"--Voila.ip={settings.ip}",
        f"--Voila.port={settings.port}",
        "--Voila.port_retries=0",
        "--template=offline",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaExecutor.show_tracebacks=False",
        f"--VoilaExecutor.timeout={settings.execution_timeout}",
        f"--MappingKernelManager.cull_idle_timeout={settings.cull_idle_timeout}",
        f"--MappingKernelManager.cull_interval={settings.cull_interval}",
        "--MappingKernelManager.cull_busy=False",
    ]
    if settings.preheat_kernel and settings.pool_size > 0:
        args += ["--VoilaConfiguration.preheat_kernel=True", f"--pool_size={settings.pool_size}"]
    if settings.certfile:
        args.append(f"--SimkitVoila.certfile={settings.certfile}")
        if settings.keyfile:
            args.append(f"--SimkitVoila.keyfile={settings.keyfile}")
    if settings.token is not None:
        # Voila then takes the token from JUPYTER_TOKEN (jupyter_server's IdentityProvider)
        args.append("--Voila.auto_token=True")
    return args


def repo_paths() -> dict[str, Path]:
    """The dashboard notebook and the Jupyter data folder (with the offline template).

    Both are package resources (:mod:`simkit._resources`): an installed simkit has them.
    """
    paths = {
        "notebook": notebook(NOTEBOOK_NAME),
        "jupyter_path": resource_dir("share") / "jupyter",
    }
    template = paths["jupyter_path"] / "voila" / "templates" / "offline"
    if not template.is_dir():
        raise SimkitError(f"the dashboard's offline Voila template is missing: {template}")
    return paths


def voila_env(
    settings: VoilaSettings,
    base: dict[str, str] | None = None,
    *,
    jupyter_path: Path | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment for the Voila process: the template path, the token, extras."""
    env = dict(os.environ if base is None else base)
    jp = jupyter_path or repo_paths()["jupyter_path"]
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(jp), env.get("JUPYTER_PATH")) if p)
    env.pop("JUPYTER_TOKEN", None)
    if settings.token is not None:
        env["JUPYTER_TOKEN"] = settings.token.get_secret_value()
    env.update(extra or {})
    return env


def check_voila_version() -> str:
    """The installed Voila version; an error if it is older than 0.5.6."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("voila")
    except PackageNotFoundError:
        raise SimkitError("voila is not installed (pip install 'voila>=0.5.6')") from None
    parts = tuple(int(p) for p in installed.split(".")[:3] if p.isdigit())
    if parts < MIN_VOILA:
        raise SimkitError(
            f"voila {installed} is too old: 0.5.6 or later is required "
            "(static-file advisory fixed in 0.5.6)"
        )
    return installed


def prepare_notebook(source: Path, parameters: dict[str, Any], folder: Path) -> Path:
    """Write the notebook with its parameters injected (as Papermill does) into ``folder``.

    The copy's code is what Voila runs; the original stays untouched.  Parameter names are
    checked (identifiers, no secrets) because they are pasted into code.
    """
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    check_parameter_names(list(parameters))
    nb = load_notebook_node(str(source))
    nb = parameterize_notebook(nb, parameters, report_mode=True)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / NOTEBOOK_NAME
    nbformat.write(nb, target)
    return target


def wait_until_listening(
    host: str, port: int, timeout: float, process: subprocess.Popen[Any] | None = None
) -> float:
    """Wait until ``host:port`` accepts connections; the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if process is not None and process.poll() is not None:
            raise SimkitError(f"the dashboard server stopped (exit code {process.returncode})")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return time.perf_counter() - t0
        except OSError:
            time.sleep(0.1)
    raise SimkitError(f"the dashboard did not start listening on {host}:{port} in {timeout:.0f} s")
