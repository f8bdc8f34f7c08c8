"""``simkit fetch meta`` and ``simkit fetch semrush``: market data into files simkit reads.

Keys come from :func:`simkit.keys.get_key` (the environment variable, else the store);
every log line, error message, cached reply and written file is scrubbed of them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption, parse_date_option
from simkit.connectors.base import SourceSpec
from simkit.connectors.meta import META, MetaConnector, check_request, fetch_meta_insights
from simkit.connectors.output import (
    check_output,
    metadata_path,
    provenance_path,
    write_frame,
    write_json,
)
from simkit.connectors.semrush import (
    SEMRUSH,
    SemrushConnector,
    check_database,
    fetch_keywords,
    read_phrases,
)
from simkit.data import load
from simkit.errors import SimkitError
from simkit.keys import get_key, install_log_scrubber

group = typer.Typer()
fetch_app = typer.Typer(
    help="Fetch market data: Meta Ads insights, SEMrush keywords.", no_args_is_help=True
)
group.add_typer(fetch_app, name="fetch")

BaseUrlOption = Annotated[
    str | None, typer.Option("--base-url", help="API root (tests, proxies); default the API's")
]
TimeoutOption = Annotated[
    float | None, typer.Option("--timeout", min=0.1, help="seconds per request")
]
DeadlineOption = Annotated[
    float | None, typer.Option("--deadline", min=1.0, help="seconds for the whole fetch")
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="ignore the response cache (and do not fill it)")
]
OutputOption = Annotated[Path, typer.Option("--output", "-o", help="file to write (CSV)")]


def _spec(spec: SourceSpec, timeout: float | None, deadline: float | None) -> SourceSpec:
    changes: dict[str, Any] = {}
    if timeout is not None:
        changes["timeout_seconds"] = timeout
    if deadline is not None:
        changes["deadline_seconds"] = deadline
    return replace(spec, **changes) if changes else spec


def _date(value: str, option: str) -> Any:
    parsed = parse_date_option(value, option)
    assert parsed is not None
    return parsed


@fetch_app.command("meta")
@handle_errors
def meta(
    account: Annotated[str, typer.Option("--account", help="ad account, act_<digits>")],
    since: Annotated[str, typer.Option("--since", help="first day (YYYY-MM-DD)")],
    until: Annotated[str, typer.Option("--until", help="last day (YYYY-MM-DD)")],
    output: OutputOption,
    base_url: BaseUrlOption = None,
    timeout: TimeoutOption = None,
    deadline: DeadlineOption = None,
    no_cache: NoCacheOption = False,
    page_size: Annotated[
        int, typer.Option("--page-size", min=1, max=5000, help="rows a page")
    ] = 500,
    fmt: FormatOption = Format.table,
) -> None:
    """Meta Ads campaign x day insights into a contract file (every page, rate-limit aware).

    Writes FILE, ``<stem>_meta.csv`` (campaign names, channel social) and
    ``FILE.provenance.json`` (the request, the mapping, pages, retries).
    """
    install_log_scrubber()
    first, last = _date(since, "--since"), _date(until, "--until")
    check_request(account=account, since=first, until=last)  # bad input before the key
    check_output(output, metadata_path(output), provenance_path(output))
    token = get_key("META_ACCESS_TOKEN")
    spec = _spec(META, timeout, deadline)
    with MetaConnector(
        spec, key=token, base_url=base_url, cache=False if no_cache else None
    ) as connector:
        result = fetch_meta_insights(
            connector, account=account, since=first, until=last, page_size=page_size
        )
    if result.data.empty:
        raise SimkitError(
            f"meta: no insights rows for {account} from {first} to {last} "
            f"({result.pages} page(s) read); nothing written"
        )
    write_frame(result.data, output)
    write_frame(result.campaigns, metadata_path(output))
    summary = _validated(output)
    payload = {
        **result.provenance,
        "output": str(output),
        "metadata": str(metadata_path(output)),
        "validation": summary,
    }
    write_json(payload, provenance_path(output))
    _report(payload, fmt, f"{result.raw_rows} rows from {result.pages} page(s)")


def _validated(output: Path) -> dict[str, Any]:
    """What ``simkit validate`` says of the written file (the fetch stands either way)."""
    try:
        loaded = load(output)
    except SimkitError as exc:
        render.warn(f"the written file does not pass `simkit validate`: {exc}")
        return {"ok": False, "error": str(exc)}
    report = loaded.report
    return {
        "ok": bool(report.ok),
        "campaigns": len(report.campaigns),
        "warnings": [str(w) for w in report.warnings][:20],
    }


def _report(payload: dict[str, Any], fmt: Format, line: str) -> None:
    def table(p: dict[str, Any]) -> None:
        fetch = p.get("fetch", {})
        render.console.print(
            f"{p['source']}: {line}; {fetch.get('requests', 0)} request(s), "
            f"{fetch.get('cache_hits', 0)} cache hit(s), {fetch.get('retries', 0)} retry(-ies); "
            f"wrote {p['output']} and {Path(p['output']).name}.provenance.json",
            highlight=False,
        )
        for note in fetch.get("notes", []):
            render.warn(note)

    render.emit(payload, fmt, table)


@fetch_app.command("semrush")
@handle_errors
def semrush(
    phrases: Annotated[
        Path, typer.Option("--phrases", help="phrases, one a line (or a CSV 'phrase' column)")
    ],
    output: OutputOption,
    database: Annotated[str, typer.Option("--database", help="SEMrush database")] = "us",
    base_url: BaseUrlOption = None,
    timeout: TimeoutOption = None,
    deadline: DeadlineOption = None,
    no_cache: NoCacheOption = False,
    fmt: FormatOption = Format.table,
) -> None:
    """SEMrush volume, CPC and competition per phrase (cache first, one request a phrase).

    Writes FILE (``phrase, database, search_volume, cpc, competition, status, fetched_at,
    from_cache, stale``) and ``FILE.provenance.json``.
    """
    install_log_scrubber()
    wanted = read_phrases(phrases)
    check_database(database)
    check_output(output, provenance_path(output))
    key = get_key("SEMRUSH_API_KEY")
    spec = _spec(SEMRUSH, timeout, deadline)
    with SemrushConnector(
        spec, key=key, base_url=base_url, cache=False if no_cache else None
    ) as connector:
        result = fetch_keywords(connector, phrases=wanted, database=database)
    write_frame(result.data, output)
    payload = {**result.provenance, "output": str(output)}
    write_json(payload, provenance_path(output))
    found = int((result.data["status"] == "ok").sum())
    _report(payload, fmt, f"{found} of {len(wanted)} phrase(s) found")
