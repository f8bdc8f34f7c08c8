"""Fuzzing the readers of user files: data CSV/Parquet, plan files, auction insights, params.

Each test builds a file from the data contract (funnel-consistent rows), corrupts it, and
checks the one promise every reader makes: it either returns values equal to the
uncorrupted parts of the file, or raises a :class:`~simkit.errors.SimkitError` whose
message is one line naming the file.  Any other exception (a traceback for the user) and
any silent change of a value it did not corrupt fails the test.

Examples are derandomized (the same inputs on every run, in CI too) and modest in number,
so the default run stays short (50 per test; ``-m "not slow"`` leaves out the two
heavier variants).  To hunt longer: ``FUZZ_EXAMPLES=600 FUZZ_NO_SHRINK=1 pytest
tests/test_fuzz_imports.py`` (no shrinking: a failure shows its unshrunk input at once).
"""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import simkit
from simkit.cli import app
from simkit.errors import SimkitError
from simkit.market import read_auction_insights
from simkit.simulate import read_plan_file

TODAY = date(2026, 1, 1)
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "50")),
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate] if os.environ.get("FUZZ_NO_SHRINK") else list(Phase),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEYS = ["date", "campaign_id", "channel", "creative_id"]
NUMBERS = ["spend", "impressions", "clicks", "conversions", "revenue", "budget"]
CONTRACT = ["date", "campaign_id", "channel", "creative_id", *NUMBERS]

# --- building contract files ------------------------------------------------------------

_ID_TEXT = (
    st.text(alphabet=st.sampled_from("ABCXYZabcxyz0123456789 _-.:éüß€ñ"), min_size=1, max_size=8)
    .map(str.strip)
    .filter(lambda s: s and s.lower() not in ("nan", "none") and s[0] not in "-+")
)


@st.composite
def contract_rows(draw: st.DrawFn) -> pd.DataFrame:
    """A small contract frame: campaigns x days x creatives, funnel-consistent, as text.

    Money has two decimals and counts are whole, written without grouping, so every cell
    has exactly one reading (an ambiguous ``1,234`` is an error by design, tested apart).
    """
    ids = draw(st.lists(_ID_TEXT, min_size=1, max_size=3, unique=True))
    n_days = draw(st.integers(1, 4))
    start = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 600)))
    channel = draw(st.sampled_from(["search", "social", "video", "display"]))
    rows = []
    for cid in ids:
        for d in range(n_days):
            impressions = draw(st.integers(0, 10**7))
            clicks = draw(st.integers(0, impressions))
            conversions = draw(st.integers(0, clicks))
            rows.append(
                {
                    "date": (start + timedelta(days=d)).isoformat(),
                    "campaign_id": cid,
                    "channel": channel,
                    "creative_id": draw(st.sampled_from(["cr1", "cr2"])) if d == 0 else "cr1",
                    "spend": f"{draw(st.integers(0, 10**9)) / 100:.2f}",
                    "impressions": str(impressions),
                    "clicks": str(clicks),
                    "conversions": str(conversions),
                    "revenue": f"{draw(st.integers(0, 10**9)) / 100:.2f}",
                    "budget": f"{draw(st.integers(0, 10**8)) / 100:.2f}",
                }
            )
    return pd.DataFrame(rows, columns=CONTRACT)


def to_csv(frame: pd.DataFrame, sep: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, quoting=quoting, lineterminator="\n")
    writer.writerow(frame.columns)
    writer.writerows(frame.astype(str).itertuples(index=False))
    return out.getvalue()


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the types a load gives (dates, floats), rows in the same order."""
    out = frame.copy()
    out["date"] = pd.to_datetime(out["date"])
    for column in NUMBERS:
        out[column] = out[column].astype(float)
    return out


def expected(frame: pd.DataFrame) -> pd.DataFrame:
    """What a correct load of ``frame`` returns (typed, sorted by the key)."""
    return typed(frame).sort_values(KEYS).reset_index(drop=True)


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    present = [c for c in CONTRACT if c in frame.columns]
    return frame[present].sort_values([k for k in KEYS if k in present]).reset_index(drop=True)


def check_error(exc: BaseException, path: Path) -> None:
    """A user-facing failure: a SimkitError naming the file, each line a whole message."""
    assert isinstance(exc, SimkitError), f"{type(exc).__name__}: {exc}"
    text = str(exc)
    lines = text.splitlines()
    assert lines, "empty message"
    assert str(path) in lines[0], text
    # load lists every validation error, one per line, each naming the file again
    for line in lines[1:]:
        assert line.startswith("  "), f"a message line that is not an item: {line!r}"
        assert str(path) in line or line.strip().startswith("("), f"item without file: {line!r}"


def try_load(path: Path) -> pd.DataFrame | None:
    """The loaded contract columns, or None after checking the failure is a clean one."""
    try:
        loaded = simkit.load(path, today=TODAY)
    except Exception as exc:  # noqa: BLE001 - the point is to see which exception it is
        check_error(exc, path)
        return None
    return comparable(loaded.data)


def write(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


# --- corruptions that keep the meaning: the load returns exactly the original -----------


@FUZZ
@given(
    frame=contract_rows(),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    permutation=st.randoms(use_true_random=False),
    blank_every=st.integers(0, 3),
    crlf=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"]),
)
def test_meaning_preserving_rewrites_load_the_same_values(
    tmp_path_factory, frame, sep, quoting, permutation, blank_every, crlf, encoding
):
    """Other separator and quoting, permuted columns, empty lines, CRLF, BOMs, encodings."""
    columns = list(frame.columns)
    permutation.shuffle(columns)
    text = to_csv(frame[columns], sep, quoting)
    lines = text.splitlines()
    if blank_every:
        lines = [
            x for i, line in enumerate(lines) for x in ([line, ""] if i % blank_every else [line])
        ]
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    path = write(tmp_path_factory.mktemp("keep") / "data.csv", data)
    loaded = simkit.load(path, today=TODAY)
    pd.testing.assert_frame_equal(comparable(loaded.data), expected(frame), check_dtype=False)


@FUZZ
@given(frame=contract_rows(), permutation=st.randoms(use_true_random=False))
def test_parquet_of_the_contract_loads_the_same_values(tmp_path_factory, frame, permutation):
    columns = list(frame.columns)
    permutation.shuffle(columns)
    path = tmp_path_factory.mktemp("pq") / "data.parquet"
    typed(frame)[columns].to_parquet(path)
    loaded = simkit.load(path, today=TODAY)
    pd.testing.assert_frame_equal(comparable(loaded.data), expected(frame), check_dtype=False)


# --- corruptions that break the file: clean failure, or the untouched rows unchanged -----


def line_of(data: bytes, offset: int) -> int:
    """0-based line index (0 = header) of a byte offset."""
    return data[:offset].count(b"\n")


def assert_rows_kept(got: pd.DataFrame, original: pd.DataFrame, rows: list[int]) -> None:
    """Each of ``rows`` (positions in ``original``) is in ``got`` with the same values."""
    if not rows:
        return
    # a corrupted header can only lose an optional column (it becomes unknown)
    keys = [k for k in KEYS if k in got.columns]
    want = expected(original.iloc[rows])[[c for c in CONTRACT if c in got.columns]]
    merged = want.merge(got, on=keys, how="left", suffixes=("", "_got"), indicator=True)
    lost = merged[merged["_merge"] != "both"]
    assert lost.empty, f"rows lost or changed silently:\n{lost[keys]}"
    for column in [c for c in NUMBERS if c in got.columns]:
        np.testing.assert_array_equal(
            merged[column].to_numpy(), merged[column + "_got"].to_numpy(), err_msg=column
        )


_NASTY = st.sampled_from(
    [
        b'"',
        b"'",
        b"\n",
        b"\r",
        b"\r\n",
        b",",
        b";",
        b"\t",
        b"|",
        b"\x00",
        b"\xff",
        b"\xfe",
        b"\xef\xbb\xbf",
        b"\xc3",
        b"\xe9",
        b"\x81",
        b"\\",
        b"Total: ",
        b"\xe2\x82\xac",
        b"1e309",
    ]
)
_BYTES = st.one_of(st.binary(min_size=1, max_size=6), _NASTY)


@st.composite
def byte_corruption(draw: st.DrawFn, data: bytes) -> tuple[bytes, int, int, bytes]:
    """(corrupted bytes, start, end, inserted): ``data[start:end]`` replaced by ``inserted``."""
    kind = draw(st.sampled_from(["insert", "replace", "delete", "truncate"]))
    start = draw(st.integers(0, len(data) - 1))
    if kind == "truncate":
        return data[:start], start, len(data), b""
    end = start if kind == "insert" else min(len(data), start + draw(st.integers(1, 8)))
    inserted = b"" if kind == "delete" else draw(_BYTES)
    return data[:start] + inserted + data[end:], start, end, inserted


@FUZZ
@given(
    frame=contract_rows(),
    sep=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    data=st.data(),
)
def test_corrupted_bytes_fail_cleanly_or_keep_the_untouched_rows(
    tmp_path_factory, frame, sep, encoding, data
):
    """Any bytes inserted, replaced or deleted anywhere, or the file cut short."""
    text = to_csv(frame, sep)
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw, encoding = text.encode("utf-8"), "utf-8"
    corrupted, start, end, inserted = data.draw(byte_corruption(raw))
    path = write(tmp_path_factory.mktemp("bytes") / "data.csv", corrupted)
    got = try_load(path)
    if got is None or encoding == "utf-16":  # a utf-16 offset is not a line of text
        return
    first_touched = line_of(raw, start)
    # rows whose lines end before the corruption cannot have changed
    before = [i for i in range(len(frame)) if i + 1 < first_touched]
    assert_rows_kept(got, frame, before)
    structural = any(c in inserted + raw[start:end] for c in b'"\n\r') or end == len(raw)
    if not structural:
        last_touched = line_of(raw, max(start, end - 1))
        after = [i for i in range(len(frame)) if i + 1 > last_touched]
        assert_rows_kept(got, frame, after)


_EXTREME = [
    "1e308",
    "-1e308",
    "1e12",
    "1e13",
    "1000000000001",
    "999999999999.99",
    "-0",
    "-0.00",
    "0.0000001",
    "1e-320",
    "5e-324",
    "inf",
    "-inf",
    "+inf",
    "Infinity",
    "nan",
    "NaN",
    "99999999999999999999",
    "18446744073709551616",
    "9223372036854775808",
    "-1",
    "0x1A",
    "1_000",
    "１２３",
    "١٢٣",
    "",
    " ",
    "--",
    "N/A",
    "1e",
    ".",
    "+",
    "1..2",
    "12.50.1",
    "1,5",
    "1.234,5",
    "1,234.5",
    " 7 ",
    "+5",
    "5.",
    ".5",
    "1e5",
    "$12.50",
    "12 345",
    "0.1e1",
    "1E+2",
    "0e0",
    "00012",
    "٣",
    "nan%",
    "1%",
    "²",
]


def readings(text: str) -> set[float]:
    """The values a cell's text may honestly be read as (empty: it must be refused)."""
    cleaned = text.strip().replace("$", "")
    candidates = {cleaned}
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        candidates.add(cleaned.replace(",", ""))
    if re.fullmatch(r"\d{1,3}(\.\d{3})*(,\d+)?", cleaned):
        candidates.add(cleaned.replace(".", "").replace(",", "."))
    values = set()
    for candidate in candidates:
        try:
            value = float(candidate)
        except ValueError:
            continue
        if np.isfinite(value) and abs(value) <= 1e12 and value >= 0:
            values.add(value)
    return values


@FUZZ
@given(
    frame=contract_rows(),
    sep=st.sampled_from([",", ";"]),
    cell=st.tuples(st.integers(0, 100), st.sampled_from(NUMBERS)),
    text=st.sampled_from(_EXTREME),
)
def test_extreme_numbers_are_read_exactly_or_refused(tmp_path_factory, frame, sep, cell, text):
    row, column = cell[0] % len(frame), cell[1]
    corrupted = frame.copy()
    corrupted.loc[row, column] = text
    path = write(tmp_path_factory.mktemp("num") / "data.csv", to_csv(corrupted, sep))
    got = try_load(path)
    if got is None:
        return
    assert_rows_kept(got, frame, [i for i in range(len(frame)) if i != row])
    key = frame.loc[row, KEYS]
    mine = got[
        (got[KEYS].astype(str) == expected(frame.iloc[[row]])[KEYS].astype(str).iloc[0]).all(axis=1)
    ]
    assert len(mine) == 1, f"row {key.tolist()} lost"
    value = float(mine[column].iloc[0])
    allowed = readings(text)
    if column == "budget" and text.strip() in ("", "--", "N/A"):
        allowed.add(float("nan"))  # an optional cell written empty
    assert value in allowed or (np.isnan(value) and any(np.isnan(a) for a in allowed)), (
        f"'{text}' in {column} read as {value}"
    )


@FUZZ
@given(
    frame=contract_rows(),
    sep=st.sampled_from([",", ";"]),
    pick=st.tuples(st.sampled_from(CONTRACT), st.sampled_from(CONTRACT)),
    same_values=st.booleans(),
)
def test_duplicated_headers_are_refused_unless_harmless(
    tmp_path_factory, frame, sep, pick, same_values
):
    """A header naming a column twice: with two different columns behind it, which one is
    meant cannot be known, so the load must refuse (never pick the first silently)."""
    named, source = pick
    columns = list(frame.columns)
    values = frame[named] if same_values else frame[source]
    body = pd.concat([frame, values.rename("__dup__")], axis=1)
    header = [*columns, named]
    text = to_csv(body, sep).split("\n", 1)[1]
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerow(header)
    path = write(tmp_path_factory.mktemp("dup") / "data.csv", out.getvalue() + text)
    got = try_load(path)
    differs = not frame[named].equals(values)
    if differs:
        assert got is None, f"two different '{named}' columns were read silently"
    if got is not None:
        pd.testing.assert_frame_equal(got, expected(frame), check_dtype=False)


@FUZZ
@given(frame=contract_rows(), sep=st.sampled_from([",", ";"]), data=st.data())
def test_truncated_lines_and_unbalanced_quotes(tmp_path_factory, frame, sep, data):
    """One line cut short, or a stray quote opened in it, or the header renamed to another
    column: the other rows are kept as they were, or the load refuses."""
    lines = to_csv(frame, sep).splitlines()
    at = data.draw(st.integers(1, len(lines) - 1))
    kind = data.draw(
        st.sampled_from(["cut", "quote", "quote_cell", "newline_in_cell", "swap_header"])
    )
    line = lines[at]
    position = data.draw(st.integers(0, len(line)))
    if kind == "cut":
        lines[at] = line[:position]
    elif kind == "quote":
        lines[at] = line[:position] + '"' + line[position:]
    elif kind in ("quote_cell", "newline_in_cell"):
        cells = line.split(sep)
        k = position % len(cells)
        cut = data.draw(st.integers(0, len(cells[k])))
        if kind == "quote_cell":
            cells[k] = '"' + cells[k]
        else:  # a quoted cell holding a line break: valid CSV, so the line count changes
            cells[k] = f'"{cells[k][:cut]}\n{cells[k][cut:]}"'
        lines[at] = sep.join(cells)
    else:
        header = lines[0].split(sep)
        a, b = data.draw(st.permutations(range(len(header))))[:2]
        header[a] = header[b]
        lines[0] = sep.join(header)
        at = 0
    path = write(tmp_path_factory.mktemp("cut") / "data.csv", "\n".join(lines) + "\n")
    got = try_load(path)
    if got is None:
        return
    if kind == "swap_header":
        raise AssertionError(f"a header naming '{header[a]}' twice was read: {lines[0]}")
    untouched = [i for i in range(len(frame)) if i + 1 < at]
    if kind in ("cut", "newline_in_cell"):  # the lines after it are intact
        untouched += [i for i in range(len(frame)) if i + 1 > at]
    assert_rows_kept(got, frame, untouched)


@FUZZ
@given(frame=contract_rows(), row=st.integers(0, 100), other=st.sampled_from(["cp1252", "latin-1"]))
def test_mixed_encodings_are_refused_or_read_right(tmp_path_factory, frame, row, other):
    """One row saved in cp1252 (or latin-1) in a UTF-8 file: every name reads right, or the
    load refuses naming the file; never a file-wide cp1252 reading that garbles the rest."""
    lines = to_csv(frame).splitlines()
    row = 1 + row % (len(lines) - 1)
    try:
        odd = lines[row].encode(other)
    except UnicodeEncodeError:
        odd = lines[row].encode("utf-8")
    raw = b"\n".join(
        [*(x.encode() for x in lines[:row]), odd, *(x.encode() for x in lines[row + 1 :])]
    )
    path = write(tmp_path_factory.mktemp("enc") / "data.csv", raw + b"\n")
    got = try_load(path)
    if got is not None:
        pd.testing.assert_frame_equal(got, expected(frame), check_dtype=False)


@pytest.mark.slow  # the meaning-preserving test above also inserts empty lines
@FUZZ
@given(
    frame=contract_rows(),
    empties=st.lists(st.sampled_from(["", " ", "\t", ",,,,", ",,,,,,,,,"]), max_size=4),
    data=st.data(),
)
def test_empty_lines_anywhere_are_skipped_and_recorded(tmp_path_factory, frame, empties, data):
    lines = to_csv(frame).splitlines()
    for blank in empties:
        lines.insert(data.draw(st.integers(1, len(lines))), blank)
    path = write(tmp_path_factory.mktemp("blank") / "data.csv", "\n".join(lines) + "\n\n\n")
    got = try_load(path)
    assert got is not None, "empty lines alone must not fail the load"
    pd.testing.assert_frame_equal(got, expected(frame), check_dtype=False)


_WEIRD_VALUES = st.one_of(
    st.sampled_from([np.inf, -np.inf, np.nan, 1e300, -1.0, 2**63, True, None, "abc", "", "1,5"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.binary(max_size=4),
)


@FUZZ
@given(
    frame=contract_rows(),
    cell=st.tuples(st.integers(0, 100), st.sampled_from(CONTRACT)),
    value=_WEIRD_VALUES,
    data=st.data(),
)
def test_parquet_with_odd_cells_or_bytes_fails_cleanly(tmp_path_factory, frame, cell, value, data):
    """A Parquet cell of another type or an extreme value, or the file's bytes corrupted."""
    odd = typed(frame)
    row, column = cell[0] % len(odd), cell[1]
    odd[column] = odd[column].astype(object)
    odd.loc[row, column] = value
    path = tmp_path_factory.mktemp("pqbad") / "data.parquet"
    try:
        odd.to_parquet(path)
    except Exception:  # noqa: BLE001 - pyarrow refuses some mixes; then corrupt the bytes
        expected(frame).to_parquet(path)
        raw = path.read_bytes()
        corrupted, *_ = data.draw(byte_corruption(raw))
        path.write_bytes(corrupted)
    got = try_load(path)
    if got is None:
        return
    assert_rows_kept(got, frame, [i for i in range(len(frame)) if i != row])


@settings(FUZZ, max_examples=min(FUZZ.max_examples, 30))
@given(frame=contract_rows(), data=st.data())
@pytest.mark.slow
def test_cli_validate_agrees_with_load_and_never_shows_a_traceback(tmp_path_factory, frame, data):
    raw = to_csv(frame, data.draw(st.sampled_from([",", ";"]))).encode()
    corrupted, *_ = data.draw(byte_corruption(raw))
    path = write(tmp_path_factory.mktemp("cli") / "data.csv", corrupted)
    result = CliRunner().invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in result.output
    try:
        simkit.load(path)
        loads = True
    except SimkitError:
        loads = False
    assert result.exit_code == (0 if loads else 1), result.output


# --- plan files --------------------------------------------------------------------------

PLAN_DATES = pd.date_range("2026-03-02", periods=5, freq="D")


@st.composite
def plan_text(draw: st.DrawFn) -> tuple[str, list[float]]:
    spends = [draw(st.integers(0, 10**8)) / 100 for _ in PLAN_DATES]
    rows = [("date", "campaign_id", "spend")]
    rows += [(str(d.date()), "C1", f"{s:.2f}") for d, s in zip(PLAN_DATES, spends, strict=True)]
    rows += [(str(d.date()), "C2", "1.00") for d in PLAN_DATES]
    order = draw(st.permutations(range(3)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[r[i] for i in order] for r in rows])
    return out.getvalue(), spends


@FUZZ
@given(plan=plan_text(), data=st.data())
def test_plan_files_read_exactly_or_fail_cleanly(tmp_path_factory, plan, data):
    text, spends = plan
    raw = text.encode()
    corrupt = data.draw(st.booleans())
    if corrupt:
        raw, *_ = data.draw(byte_corruption(raw))
    path = write(tmp_path_factory.mktemp("plan") / "plan.csv", raw)
    try:
        got = read_plan_file(path, "C1", PLAN_DATES)
    except Exception as exc:  # noqa: BLE001
        check_error(exc, path)
        assert corrupt, f"the uncorrupted plan failed: {exc}"
        return
    if not corrupt:
        np.testing.assert_array_equal(got.daily, spends)
    assert got.daily.shape == (len(PLAN_DATES),) and np.all(np.isfinite(got.daily))


@FUZZ
@given(header=st.permutations(["date", "campaign_id", "spend", "Date", "SPEND ", "campaign_id"]))
def test_plan_file_with_a_column_twice_is_refused(tmp_path_factory, header):
    header = list(header)[:4]
    rows = [",".join(header)] + [
        ",".join(
            {"date": str(d.date()), "campaign_id": "C1"}.get(h.strip().lower(), "5") for h in header
        )
        for d in PLAN_DATES
    ]
    path = write(tmp_path_factory.mktemp("plan2") / "plan.csv", "\n".join(rows) + "\n")
    names = [h.strip().lower() for h in header]
    try:
        got = read_plan_file(path, "C1", PLAN_DATES)
    except Exception as exc:  # noqa: BLE001
        check_error(exc, path)
        return
    assert len(set(names)) == len(names), f"a plan with columns {header} was read"
    assert got.daily.tolist() == [5.0] * len(PLAN_DATES)


# --- auction insights --------------------------------------------------------------------

_AUCTION = (
    "Auction insights report\n"
    '"January 5, 2026 - January 25, 2026"\n'
    "Week,Display URL domain,Impression share,Overlap rate,Position above rate,"
    "Top of page rate,Abs. Top of page rate,Outranking share\n"
)


@st.composite
def auction_text(draw: st.DrawFn) -> str:
    rows = []
    for week in ("2026-01-05", "2026-01-12"):
        for domain in draw(
            st.lists(st.sampled_from(["You", "rival.com", "b.io", "ç.fr"]), min_size=1, unique=True)
        ):
            cells = [
                draw(
                    st.sampled_from(
                        ["< 10%", " --", "> 90%", f"{draw(st.integers(0, 10000)) / 100:.2f}%"]
                    )
                )
                for _ in range(6)
            ]
            rows.append(",".join([week, domain, *cells]))
    return _AUCTION + "\n".join(rows) + "\n"


@FUZZ
@given(
    text=auction_text(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    data=st.data(),
)
def test_auction_insights_read_or_fail_cleanly(tmp_path_factory, text, encoding, data):
    raw = text.encode(encoding)
    corrupt = data.draw(st.booleans())
    if corrupt:
        raw, *_ = data.draw(byte_corruption(raw))
    path = write(tmp_path_factory.mktemp("auction") / "auction.csv", raw)
    try:
        got = read_auction_insights(path)
    except Exception as exc:  # noqa: BLE001
        check_error(exc, path)
        assert corrupt, f"the uncorrupted export failed: {exc}"
        return
    rates = got.frame[["impression_share", "overlap_rate", "outranking_share"]].to_numpy()
    assert np.all(np.isnan(rates) | ((rates >= 0) & (rates <= 1)))
    if not corrupt:
        assert len(got.frame) == text.count("\n") - 3


# --- params ------------------------------------------------------------------------------

_PARAM_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_FIELDS = [
    "data",
    "mapping",
    "campaigns",
    "horizon_days",
    "seed",
    "n_paths",
    "members",
    "on_bad_rows",
    "priority",
    "target_cpa",
    "datta",
    "api_key",
    "1",
    "",
]
_TAGS = [
    "!!python/object:os.system {}",
    "!!python/object/apply:os.system ['echo hi']",
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "&a [*a]",
    "!!timestamp 2026-01-01",
    "!!float nan",
    "!!int 0x1F",
    "!!str 1",
    "*undefined",
    "!custom 1",
    "[[[[[[",
    "{a: 1, a: 2}",
    "? [a, b]\n: 1",
]


@FUZZ
@given(
    doc=st.one_of(
        st.dictionaries(st.sampled_from(_FIELDS), _PARAM_VALUES, max_size=5).map(
            lambda d: yaml.safe_dump({"data": "x.csv", **d})
        ),
        st.tuples(st.sampled_from(_FIELDS), st.sampled_from(_TAGS)).map(
            lambda t: f"data: x.csv\n{t[0] or 'k'}: {t[1]}\n"
        ),
        st.sampled_from(_TAGS),
        st.text(max_size=40),
    ),
    raw=st.one_of(st.none(), st.binary(max_size=20)),
)
def test_params_loader_validates_or_fails_with_one_line(tmp_path_factory, doc, raw):
    path = tmp_path_factory.mktemp("params") / "run.yaml"
    path.write_bytes(raw if raw is not None else doc.encode())
    try:
        params = simkit.load_params(path)
    except Exception as exc:  # noqa: BLE001
        assert isinstance(exc, simkit.ParamsError), f"{type(exc).__name__}: {exc}"
        assert "\n" not in str(exc) and str(path) in str(exc), str(exc)
        return
    assert isinstance(params, simkit.RunParams)
    text = path.read_bytes().decode("utf-8", errors="replace")
    assert "!!python" not in text, f"a python tag was accepted: {text!r}"
    loaded = yaml.safe_load(text)
    unknown = set(loaded) - set(simkit.RunParams.model_fields)
    assert not unknown, f"unknown keys {unknown} were accepted"


# --- regressions: the bugs this fuzz found outside the data importer, as plain tests -----


def test_plan_file_naming_a_column_twice_is_refused(tmp_path):
    path = write(tmp_path / "plan.csv", "date,campaign_id,spend,spend\n2026-03-02,C1,5,6\n")
    with pytest.raises(
        SimkitError, match=r"plan\.csv, column 'spend': column 'spend' appears twice"
    ):
        read_plan_file(path, "C1", PLAN_DATES[:1])


def test_auction_export_with_undecodable_bytes_is_a_data_error(tmp_path):
    path = write(tmp_path / "a.csv", _AUCTION.encode("utf-16") + b"\x00")
    with pytest.raises(SimkitError, match=r"a\.csv: cannot be decoded as utf-16"):
        read_auction_insights(path)


def test_params_yaml_python_tag_is_refused_on_one_line(tmp_path):
    path = write(tmp_path / "run.yaml", "data: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(
        simkit.ParamsError,
        match=r"run\.yaml: not valid YAML: could not determine a constructor for the tag .*python/object/apply:os\.system.* \(line 1, column 7\)$",
    ):
        simkit.load_params(path)


def test_params_with_non_string_keys_or_bytes_are_params_errors(tmp_path):
    path = write(tmp_path / "run.yaml", "data: x.csv\n1: 2\n")
    with pytest.raises(simkit.ParamsError, match=r"run\.yaml: keys are parameter names, not 1$"):
        simkit.load_params(path)
    path = write(tmp_path / "run.yaml", "? \n")
    with pytest.raises(simkit.ParamsError, match=r"keys are parameter names, not None"):
        simkit.load_params(path)
    path = write(tmp_path / "run.yaml", b"data: \xff\n")
    with pytest.raises(simkit.ParamsError, match=r"run\.yaml: not UTF-8 text \(byte 6\)"):
        simkit.load_params(path)


def test_params_message_with_a_newline_in_a_key_is_one_line(tmp_path):
    path = write(tmp_path / "run.yaml", 'data: x.csv\n"hori\\nzon_days": 3\n')
    with pytest.raises(simkit.ParamsError, match=r"field 'hori zon_days': unknown key") as info:
        simkit.load_params(path)
    assert "\n" not in str(info.value)


@pytest.mark.slow  # the same corruptions as the extreme-numbers test, loaded with skip
@FUZZ
@given(
    frame=contract_rows(),
    cell=st.tuples(st.integers(0, 100), st.sampled_from(NUMBERS)),
    text=st.sampled_from(_EXTREME),
)
def test_on_bad_rows_skip_drops_only_listed_rows(tmp_path_factory, frame, cell, text):
    """With on_bad_rows: skip, a bad cell's row is left out *and listed*; no other row moves."""
    row, column = cell[0] % len(frame), cell[1]
    corrupted = frame.copy()
    corrupted.loc[row, column] = text
    path = write(tmp_path_factory.mktemp("skip") / "data.csv", to_csv(corrupted))
    try:
        loaded = simkit.load(path, today=TODAY, on_bad_rows="skip")
    except Exception as exc:  # noqa: BLE001
        check_error(exc, path)
        return
    got = comparable(loaded.data)
    assert_rows_kept(got, frame, [i for i in range(len(frame)) if i != row])
    skipped = [r for r in loaded.report.repairs if r.action == "skipped_bad_rows"]
    if len(got) < len(frame):
        assert skipped and skipped[0].lines == (row + 2,), loaded.report.repairs
    else:
        assert not skipped
