"""The ``simkit`` command line (console script ``simkit = "simkit.cli:main"``).

:mod:`simkit.cli.app` holds the app, the entry point and the command table;
:mod:`simkit.cli.options` the options commands share and the one way they read data;
:mod:`simkit.cli.errors` how a command fails; :mod:`simkit.cli.render` what they print; one
module per command group (``data``, ``forecast``, ``risks``, ``pivots``, ``market``,
``runs``, ``dashboard``, ``version``) the commands.
"""

from __future__ import annotations

from simkit.cli.app import app, main
from simkit.cli.errors import error_line, handle_errors

__all__ = ["app", "error_line", "handle_errors", "main"]
