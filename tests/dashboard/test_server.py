"""The Voila settings the dashboard is served with, and the served notebook."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import nbformat
import pytest

from simkit.dashboard.server import (
    MIN_VOILA,
    VoilaSettings,
    check_voila_version,
    is_loopback,
    prepare_notebook,
    repo_paths,
    voila_command,
    voila_env,
)
from simkit.errors import ParamsError

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "whatif_dashboard.ipynb"


def _args(**kw) -> list[str]:
    return voila_command(VoilaSettings(notebook=str(NOTEBOOK), **kw))


def _option(args: list[str], name: str) -> str:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name} given {len(values)} times in {args}"
    return values[0]


def test_sources_stripped_and_tracebacks_hidden():
    args = _args()
    assert _option(args, "VoilaConfiguration.strip_sources") == "True"
    assert _option(args, "VoilaConfiguration.show_tracebacks") == "False"
    assert _option(args, "VoilaExecutor.show_tracebacks") == "False"


def test_a_single_notebook_is_served_not_a_folder():
    args = _args()
    positional = [a for a in args[3:] if not a.startswith("-")]
    assert positional == [str(NOTEBOOK)]
    assert Path(positional[0]).is_file() and positional[0].endswith(".ipynb")


def test_idle_kernels_are_culled_and_cells_time_out():
    args = _args()
    assert _option(args, "MappingKernelManager.cull_idle_timeout") == "120"
    assert _option(args, "MappingKernelManager.cull_interval") == "60"
    assert 10 <= int(_option(args, "VoilaExecutor.timeout")) <= 600


def test_offline_template_loopback_and_preheated_kernel():
    args = _args()
    assert _option(args, "template") == "offline"
    assert _option(args, "Voila.ip") == "127.0.0.1"
    assert _option(args, "Voila.port_retries") == "0"
    assert _option(args, "VoilaConfiguration.preheat_kernel") == "True"
    assert "--no-browser" in args


def test_offline_template_drops_the_font_awesome_cdn():
    folder = REPO / "share" / "jupyter" / "voila" / "templates" / "offline"
    text = (folder / "index.html.j2").read_text()
    assert "fontawesome-free@^5/css/all.min.css" in text and "data:text/css," in text
    assert '"base_template": "lab"' in (folder / "conf.json").read_text()
    env = voila_env(
        VoilaSettings(notebook=str(NOTEBOOK)),
        {"JUPYTER_PATH": "/elsewhere"},
        jupyter_path=repo_paths()["jupyter_path"],
    )
    assert env["JUPYTER_PATH"].split(":")[0] == str(REPO / "share" / "jupyter")


def test_voila_is_recent_enough_in_the_venv_and_in_the_requirements():
    assert check_voila_version() == version("voila")
    installed = tuple(int(p) for p in version("voila").split(".")[:3])
    assert installed >= MIN_VOILA
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    voila = [d for d in deps if d.startswith("voila")]
    assert voila and re.search(r">=\s*0\.5\.(6|[7-9]|\d{2,})", voila[0]), voila


@pytest.mark.parametrize("ip", ["0.0.0.0", "192.168.1.20", "::", "dashboard.example.com"])
def test_serving_beyond_loopback_needs_a_token(ip):
    with pytest.raises(ParamsError, match="token"):
        VoilaSettings(notebook="nb.ipynb", ip=ip)
    settings = VoilaSettings(notebook="nb.ipynb", ip=ip, token="s3cret-token-0123456789")
    assert not is_loopback(ip)
    assert "--Voila.auto_token=True" in voila_command(settings)


def test_the_token_travels_in_the_environment_never_on_the_command_line():
    token = "s3cret-token-0123456789"
    settings = VoilaSettings(notebook="nb.ipynb", ip="0.0.0.0", token=token)
    assert not any(token in a for a in voila_command(settings))
    assert token not in repr(settings)
    assert voila_env(settings, {"JUPYTER_TOKEN": "old"})["JUPYTER_TOKEN"] == token
    assert "JUPYTER_TOKEN" not in voila_env(VoilaSettings(notebook="n"), {"JUPYTER_TOKEN": "x"})
    with pytest.raises(ParamsError, match="16 characters"):
        VoilaSettings(notebook="nb.ipynb", token="short")


@pytest.mark.parametrize("ip", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_no_token(ip):
    assert is_loopback(ip)
    VoilaSettings(notebook="nb.ipynb", ip=ip)


# --- the notebook -----------------------------------------------------------------------


def test_notebook_is_thin_stripped_and_parameterised():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code.index(tagged[0]) == 0
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None
        tree = ast.parse(cell.source)
        assert not [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.For | ast.While | ast.Lambda)
        ]
    params = {
        t.id
        for n in ast.parse(tagged[0].source).body
        if isinstance(n, ast.Assign)
        for t in n.targets
    }
    assert params == {"data", "mapping", "run_id", "horizon_days", "n_paths", "seed", "workdir"}
    default = re.search(r"data = '([^']+)'", tagged[0].source).group(1)
    assert (NOTEBOOK.parent / default).resolve().is_file()


def test_prepare_notebook_injects_parameters_and_refuses_secret_names(tmp_path):
    target = prepare_notebook(NOTEBOOK, {"data": "/abs/campaigns.csv", "run_id": "R1"}, tmp_path)
    assert target.parent == tmp_path and list(tmp_path.iterdir()) == [target]
    nb = nbformat.read(target, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'data = "/abs/campaigns.csv"' in injected[0].source
    with pytest.raises(ParamsError, match="looks like a secret"):
        prepare_notebook(NOTEBOOK, {"api_token": "x"}, tmp_path)
