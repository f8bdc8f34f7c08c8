"""``simkit llm prompt``: the exact messages simkit would send to a model (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption
from simkit.params import load_params
from simkit.report.llm_prompt import report_prompts

group = typer.Typer()
llm_app = typer.Typer(
    help="What simkit sends to a language model, and how (see README, 'Language model').",
    no_args_is_help=True,
)
group.add_typer(llm_app, name="llm")


@llm_app.command("prompt")
@handle_errors
def prompt(
    campaign: Annotated[str, typer.Argument(help="campaign id")],
    params_file: Annotated[
        Path, typer.Option("--params", help="run parameters, e.g. params/demo.yaml")
    ],
    fmt: FormatOption = Format.table,
) -> None:
    """Print the exact messages a report of CAMPAIGN would send to the model (nothing is sent)."""
    params = load_params(params_file)
    params.campaign_list([campaign])  # not in the data: one line, with a hint
    render.emit(report_prompts(params, campaign), fmt, render.llm_prompts)
