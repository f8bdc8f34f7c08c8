"""The command line as a package: the command table is true, and the listing stays light.

``simkit --help`` lists every command from :data:`simkit.cli.app.COMMANDS` without importing
the command modules (and so the engines); these tests check that the table matches the
modules and that the listing imports none of them.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys

import typer.main

import simkit.cli
from simkit.cli.app import COMMANDS, load_command


def test_each_listed_line_is_the_first_paragraph_of_the_commands_help() -> None:
    for name, (_, line) in COMMANDS.items():
        command = load_command(name)
        assert command.help is not None, name
        assert command.help.split("\n\n")[0] == line, name


def test_the_table_names_every_command_of_every_command_module() -> None:
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(simkit.cli.__path__):
        if info.name == "__main__":  # importing it runs the command line
            continue
        module = importlib.import_module(f"simkit.cli.{info.name}")
        group = getattr(module, "group", None)
        if group is None:
            continue
        for name in typer.main.get_group(group).commands:
            found[name] = module.__name__
    assert found == {name: module for name, (module, _) in COMMANDS.items()}


def test_help_lists_every_command_without_importing_a_command_module() -> None:
    probe = (
        "import contextlib, io, json, sys\n"
        "from simkit.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('simkit.', 'scipy', "
        "'sqlalchemy')))\n"
        "print(json.dumps({'help': out.getvalue(), 'loaded': loaded}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    )
    result = json.loads(done.stdout)
    listed = [line.split()[1] for line in result["help"].splitlines() if line.startswith("│ ")]
    assert [name for name in listed if name in COMMANDS] == list(COMMANDS)
    command_modules = {module for module, _ in COMMANDS.values()}
    assert sorted(set(result["loaded"]) & command_modules) == []
    assert [m for m in result["loaded"] if m.startswith(("scipy", "sqlalchemy"))] == []


def test_runs_list_reads_the_registry_without_pandas_numpy_or_alembic(tmp_path) -> None:
    """``simkit runs list`` answers in well under a second (issue 21's bar) only because it
    imports neither the data layer (pandas, numpy) nor Alembic: checked on a real registry."""
    from simkit.registry import Registry

    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    reg = Registry(url)
    reg.create_run(
        "20260101T000000Z-abc123",
        params={"seed": 7},
        params_hash="h" * 64,
        output_dir=str(tmp_path / "reports"),
        campaigns=["C001", "C002"],
    )
    reg.close()
    probe = (
        "import contextlib, io, json, sys\n"
        "from simkit.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        f"    main(['runs', 'list', '--registry', {url!r}, '--format', 'json'])\n"
        "heavy = ('pandas', 'numpy', 'scipy', 'pyarrow', 'alembic', 'simkit.data', "
        "'simkit.runner', 'simkit.params')\n"
        "print(json.dumps({'out': out.getvalue(), 'loaded': sorted(m for m in heavy "
        "if m in sys.modules)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(done.stdout)
    listed = json.loads(result["out"])
    assert [(r["run_id"], r["n_campaigns"]) for r in listed] == [("20260101T000000Z-abc123", 2)]
    assert result["loaded"] == []
