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
