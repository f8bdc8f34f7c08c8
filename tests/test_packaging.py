"""simkit works when installed from its wheel, outside the checkout.

The wheel is built from a copy of the sources (so the build leaves nothing in the checkout)
without build isolation (no network: the venv's setuptools builds it), installed with
``--no-deps`` into a fresh venv in a temporary folder.  That venv sees the project venv's
dependencies through a ``.pth`` line naming their site-packages folder, which does not run
that folder's own ``.pth`` files, so the editable simkit stays invisible.  From a temporary
working folder it then runs ``simkit generate``, ``simkit run`` and ``simkit dashboard``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from simkit._resources import resource_dir
from simkit.paths import safe_name

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: what the wheel is built from (everything else in the checkout must not matter)
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "simkit", "notebooks")
SOURCES += ("templates", "share")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_http_200(url: str, process: subprocess.Popen[str], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        assert process.poll() is None, f"simkit dashboard exited {process.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (loopback)
                return int(response.status)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
            time.sleep(1.0)
    raise AssertionError(f"no answer from {url} in {timeout:.0f} s (last: {last!r})")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """A venv outside the checkout with the built wheel installed: (bin, env, work folder)."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=_IGNORE)
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    quiet = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pip = [sys.executable, "-m", "pip"]
    dist = root / "dist"
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)],
        cwd=root,
        env=quiet,
        timeout=300,
    )
    (wheel,) = dist.glob("simkit-*.whl")

    venv = root / "venv"
    _run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root, env=quiet, timeout=120
    )
    python = venv / "bin" / "python"
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        cwd=root,
        env=quiet,
        timeout=60,
    ).strip()
    # the project venv's dependencies, as plain path lines (its __editable__ .pth files,
    # which would bring the checkout's simkit back, are not processed through them)
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    Path(site, "simkit_test_deps.pth").write_text("".join(f"{p}\n" for p in deps))
    _run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        cwd=root,
        env=quiet,
        timeout=300,
    )
    # the dependencies' Jupyter data (nbconvert and Voila templates, widget extensions) and
    # config, as a real install would put them in this prefix; not the project's kernel spec,
    # whose python would import the checkout's simkit: this venv installs its own
    project = Path(sysconfig.get_paths()["data"])
    for folder in ("share/jupyter", "etc/jupyter"):
        for entry in sorted((project / folder).glob("*")):
            if entry.name != "kernels":
                (venv / folder).mkdir(parents=True, exist_ok=True)
                (venv / folder / entry.name).symlink_to(entry)
    _run(
        [str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
        cwd=root,
        env=quiet,
        timeout=120,
    )
    spec = json.loads((venv / "share/jupyter/kernels/python3/kernel.json").read_text())
    assert spec["argv"][0] == str(python)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH")}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["TQDM_DISABLE"] = "1"
    work = root / "work"
    work.mkdir()
    return venv / "bin", env, work


def test_the_installed_copy_is_imported_with_its_resources(installed) -> None:
    bin_dir, env, work = installed
    code = (
        "import json, simkit, simkit._resources as r; print(json.dumps({'file': simkit.__file__,"
        " 'notebooks': str(r.resource_dir('notebooks')), 'share': str(r.resource_dir('share')),"
        " 'templates': str(r.resource_dir('templates')), 'sample': str(r.dashboard_sample()),"
        " 'sample_data': str(simkit.sample_data())}))"
    )
    where = json.loads(_run([str(bin_dir / "python"), "-c", code], cwd=work, env=env, timeout=120))
    print("installed simkit:", where["file"])
    site = Path(where["file"]).parent
    assert site.parent.name == "site-packages" and str(bin_dir.parent) in where["file"]
    for name in ("notebooks", "share", "templates"):
        assert Path(where[name]) == site / "_bundled" / name
    assert (site / "_bundled" / "notebooks" / "campaign_report.ipynb").is_file()
    for name in ("quickstart", "compare_models", "what_if"):  # the workbench notebooks
        assert (site / "_bundled" / "notebooks" / f"{name}.ipynb").is_file()
    assert where["sample_data"] == where["sample"]  # what their `data = None` reads
    assert Path(where["sample"]).is_file() and Path(where["sample"]).is_relative_to(site)
    assert str(REPO) not in json.dumps(where), "nothing is read from the checkout"
    # the checkout's own copy is what the tests of this checkout use
    assert resource_dir("notebooks") == REPO / "notebooks"


def test_generate_and_run_from_the_installed_wheel(installed) -> None:
    bin_dir, env, work = installed
    simkit = str(bin_dir / "simkit")
    _run(
        [simkit, "generate", "data", "--campaigns", "2", "--days", "70", "--end", "2026-11-20"],
        cwd=work,
        env=env,
        timeout=300,
    )
    assert (work / "data" / "campaigns.csv").is_file()
    params = {
        "data": "data/campaigns.csv",
        "campaigns": ["C001"],
        "horizon_days": 14,
        "members": ["seasonal_naive", "ets"],
        "backtest_cutoffs": 1,
        "n_paths": 300,
        "output_dir": "out",
    }
    (work / "tiny.yaml").write_text(json.dumps(params))  # JSON is YAML
    _run([simkit, "run", "tiny.yaml"], cwd=work, env=env, timeout=900)
    report = work / "out" / safe_name("C001") / "report.html"
    assert report.is_file() and "C001" in report.read_text()
    assert (work / "out" / "index.html").is_file()


def test_dashboard_from_the_installed_wheel_answers_200(installed) -> None:
    bin_dir, env, work = installed
    port = _free_port()
    process = subprocess.Popen(
        [str(bin_dir / "simkit"), "dashboard", "--port", str(port), "--no-preheat", "-f", "json"],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, so that Voila goes with it if it must be killed
    )
    try:
        status = _wait_for_http_200(f"http://127.0.0.1:{port}/", process, timeout=240)
    finally:
        # SIGTERM, not SIGINT: a suite started in the background (`cmd &`) runs with SIGINT
        # ignored, inherited by every child, and then nothing would stop the dashboard
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # Voila too: it holds the output pipes
            out, err = process.communicate()
    assert status == 200, (out, err)
    info = json.loads(out)
    assert info["url"] == f"http://127.0.0.1:{port}/"
    # the default data is the sample shipped in the wheel, not a file of the checkout
    assert Path(info["data"]).is_relative_to(bin_dir.parent), info["data"]
