"""The ``simkit`` command line: automation-friendly (``--format json``) and readable (rich).

Every error is one line on stderr, ``simkit <command>: error: <message>``, with exit code 1:
a :class:`~simkit.errors.SimkitError` from a command, running out of memory, and the usage
errors Typer finds in the command line (an unknown option, a missing argument, a bad
value).  ``--help`` exits 0; Ctrl-C exits 130.  ``--format json`` prints JSON only, on
stdout.

Each command group is a module of :mod:`simkit.cli` that imports its engine at the top.
:data:`COMMANDS` names them, and a group's module is imported only when one of its commands
runs or shows its help (Click's "lazily loading subcommands"), so ``simkit --help`` and
``simkit validate`` do not load scipy.stats, sqlalchemy and the other engines' imports.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Annotated, Any

import typer
import typer.main
from typer._click import Command, Context

# Typer vendors Click (as typer._click): its usage errors live there
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperCommand, TyperGroup

from simkit import telemetry
from simkit.cli.errors import print_error

__all__ = ["COMMANDS", "app", "load_command", "main"]

#: Command name -> (its module, its one-line help), in the order ``simkit --help`` lists
#: them.  The line is the first paragraph of the command's docstring (a test checks it):
#: the listing shows it without importing the module.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": (
        "simkit.cli.data",
        "Check a data file against the contract and score each campaign's data quality.",
    ),
    "generate": (
        "simkit.cli.data",
        "Generate synthetic campaigns with injected events and known ground truth.",
    ),
    "version": ("simkit.cli.version", "Print the simkit version."),
    "benchmarks": (
        "simkit.cli.market",
        "Compare campaigns' CTR, CPC, CVR and CPA with published industry benchmarks.",
    ),
    "competitors": (
        "simkit.cli.market",
        "Competitors from Google Ads auction insights: threat, market share, trends, entrants.",
    ),
    "risks": (
        "simkit.cli.risks",
        "Detect risks (dips, fatigue, competitor pressure, pacing) as calibrated probabilities.",
    ),
    "simulate": (
        "simkit.cli.forecast",
        "Simulate a campaign's next days: quantiles, totals, scenarios and probabilities.",
    ),
    "backtest": (
        "simkit.cli.forecast",
        "Rolling-origin backtest of each forecast member and of the ensemble.",
    ),
    "run": (
        "simkit.cli.runs",
        "Execute one report per campaign (Papermill), publish them and write index.html.",
    ),
    "pivots": (
        "simkit.cli.pivots",
        "Fit spend response curves, optimise the budget, and rank simulated pivots.",
    ),
    "dashboard": (
        "simkit.cli.dashboard",
        "Serve the what-if dashboard with Voila (Ctrl-C stops it).",
    ),
    "runs": ("simkit.cli.history", "List, show and delete recorded runs."),
    "audit": ("simkit.cli.audit", "Show and verify the audit log."),
    "export": (
        "simkit.cli.privacy",
        "Export everything simkit holds about a campaign or client to a zip file.",
    ),
    "purge": (
        "simkit.cli.privacy",
        "Delete everything simkit holds about a campaign or client, everywhere.",
    ),
    "gc": (
        "simkit.cli.privacy",
        "Remove runs, reports and cache entries older than retention_days.",
    ),
    "backup": (
        "simkit.cli.backup",
        "Back up the registry, the reports and the audit log, with a manifest of hashes.",
    ),
    "restore": (
        "simkit.cli.backup",
        "Restore a backup: check every hash, then put everything back where it was.",
    ),
    "keys": (
        "simkit.cli.keys",
        "Store, list, rotate and delete API keys (never shown, never on the command line).",
    ),
    "fetch": ("simkit.cli.fetch", "Fetch market data: Meta Ads insights, SEMrush keywords."),
    "sources": ("simkit.cli.sources", "Health of the market data sources."),
    "enrich": (
        "simkit.cli.enrich",
        "Merge market series (Trends, keywords) onto the campaign-day panel, scored.",
    ),
    "ledger": (
        "simkit.cli.ledger",
        "The forecast ledger: list, show, score, compare and give feedback.",
    ),
    "db": ("simkit.cli.db", "The registry database's schema (Alembic migrations)."),
    "llm": (
        "simkit.cli.llm",
        "What simkit sends to a language model, and how (see README, 'Language model').",
    ),
}


def load_command(name: str) -> Command:
    """The Click command ``name`` of :data:`COMMANDS`, its module imported."""
    module = importlib.import_module(COMMANDS[name][0])
    return typer.main.get_group(module.group).commands[name]


class _Unloaded(TyperCommand):
    """A command whose module is not imported yet: its name and one line, for the listing."""


class _LazyGroup(TyperGroup):
    """The ``simkit`` group: lists every command and imports one when it is invoked."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_, line) in COMMANDS.items():
            self.commands.setdefault(name, _Unloaded(name=name, short_help=line))

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, _Unloaded):
            command = self.commands[name] = load_command(name)
        return name, command, rest


app = typer.Typer(
    name="simkit",
    help="Campaign performance simulation: validate data, forecast, simulate, find risks "
    "and pivots, and publish reports.",
    cls=_LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    telemetry.init_sentry()  # opt-in error reports: only with SENTRY_DSN


def main(argv: list[str] | None = None) -> None:
    """The ``simkit`` entry point: run the command line ``argv`` (default ``sys.argv[1:]``).

    Typer's own error boxes (several lines, exit 2) become one line and exit 1, naming the
    command and the option or argument at fault; a command's help exits 0.  An unexpected
    exception is one line too; ``--verbose`` adds its traceback.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    command = typer.main.get_command(app)
    code = 0
    try:
        with command.make_context("simkit", args) as ctx:
            command.invoke(ctx)
    except NoArgsIsHelpError as exc:  # `simkit` or `simkit runs` alone: the help
        sys.stdout.write(exc.format_message().rstrip("\n") + "\n")
    except UsageError as exc:
        print_error(exc.format_message(), exc.ctx.command_path if exc.ctx else "simkit")
        code = 1
    except typer.TyperException as exc:  # the other Click errors (e.g. a file it opens)
        print_error(exc.format_message(), "simkit")
        code = 1
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        print_error("interrupted", "simkit")
        code = 130
    except BrokenPipeError:  # `simkit ... | head`: the reader left; nothing to say
        # the interpreter flushes stdout at exit: into /dev/null, not the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    except Exception as exc:
        if logging.getLogger().isEnabledFor(logging.INFO):
            logging.getLogger("simkit").exception("unexpected error")
        hint = "" if logging.getLogger().isEnabledFor(logging.INFO) else " (--verbose shows where)"
        # an unexpected message may quote a URL with its password or a key simkit read;
        # keys were read only if simkit.keys was loaded (not imported here: keyring is slow)
        message = telemetry.scrub_text(str(exc))
        keys = sys.modules.get("simkit.keys")
        if keys is not None:
            message = keys.scrub(message)
        print_error(f"unexpected {type(exc).__name__}: {message}{hint}", "simkit")
        code = 1
    sys.exit(code)
