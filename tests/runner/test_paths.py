"""Names are data, not paths: safe folder names and the run layout, with hostile ids."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit.errors import SimkitError
from simkit.paths import (
    MAX_NAME_CHARS,
    PathOutsideRootError,
    atomic_write_text,
    ensure_inside,
    safe_name,
)
from simkit.runner.layout import FAILED, LOCK, PORTFOLIO, STAGING, RunLayout, campaign_folders

RUN_ID = "20260101T000000Z-abcdef"
HOSTILE = ["../victimA", "/abs/dir", "a/b", "<script>x</script>", ".", "..", "", " ", "\x7f"]
_FIXED = {STAGING, FAILED, PORTFOLIO, LOCK, "index.html", "run.json", "pivots.json"}


def _check_name(name: str) -> None:
    assert name and len(name) <= MAX_NAME_CHARS
    assert name.isascii() and "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in (".", "..") and not name.startswith((".", "_", "-"))
    assert name not in _FIXED


@pytest.mark.parametrize("cid", HOSTILE)
def test_hostile_ids_become_plain_names(cid: str) -> None:
    _check_name(safe_name(cid))


def test_names_are_readable_and_stable() -> None:
    assert safe_name("C001") == "C001-a4906a54"
    assert safe_name("../victimA").startswith("victimA-")
    assert safe_name("Campaña de verano").startswith("Campana-de-verano-")
    assert len(safe_name("x" * 100_000)) == MAX_NAME_CHARS


def test_ids_that_differ_only_in_case_or_punctuation_get_distinct_folders() -> None:
    ids = ["C1", "c1", "a/b", "a-b", "a b", "a:b"]
    names = campaign_folders(ids)
    assert len({n.casefold() for n in names.values()}) == len(ids)


def test_a_folder_clash_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simkit.runner.layout.safe_name", lambda cid: "same-00000000")
    with pytest.raises(SimkitError, match="would share the folder 'same-00000000'"):
        campaign_folders(["A", "B"])


def test_ensure_inside_follows_symlinks(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "link").symlink_to(elsewhere, target_is_directory=True)
    assert ensure_inside(out, out / "C1-00000000" / "report.html").parent.name == "C1-00000000"
    with pytest.raises(PathOutsideRootError, match="not inside the output folder"):
        ensure_inside(out, out / "link" / "report.html")
    with pytest.raises(PathOutsideRootError, match="not inside the output folder"):
        ensure_inside(out, out / ".." / "victim")
    with pytest.raises(PathOutsideRootError, match="not inside the output folder"):
        ensure_inside(out, out)


def test_a_symlinked_campaign_folder_is_refused_by_the_layout(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "victim").mkdir()
    (out / safe_name("C1")).symlink_to(tmp_path / "victim", target_is_directory=True)
    layout = RunLayout(out, RUN_ID)
    with pytest.raises(PathOutsideRootError, match="refusing to touch"):
        layout.campaign_files("C1")


#: Ids from the whole of Unicode (surrogates too), NUL excepted, with path-like pieces
#: and very long strings mixed in.
_ANY_CHAR = st.characters(exclude_characters="\x00", exclude_categories=())
IDS = st.one_of(
    st.text(_ANY_CHAR, min_size=1, max_size=40),
    st.lists(
        st.sampled_from(["..", "/", ".", "\\", "~", "\n", "\x1b", "C", "é", "\u202e", "%2e"]),
        min_size=1,
        max_size=12,
    ).map("".join),
    st.text(_ANY_CHAR, min_size=300, max_size=3000),
    st.sampled_from(HOSTILE[:-5]).map(lambda s: s * 3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(IDS, min_size=1, max_size=6, unique=True))
def test_every_file_of_any_ids_lies_inside_the_output_folder(ids: list[str]) -> None:
    folders = campaign_folders(ids)
    assert len({name.casefold() for name in folders.values()}) == len(ids), "no shared folder"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out = root / "out"
        out.mkdir()
        layout = RunLayout(out, RUN_ID)
        for cid in ids:
            _check_name(folders[cid])
            assert layout.campaign_dir(cid).name == folders[cid]
            assert layout.report_link(cid) == f"{folders[cid]}/report.html"
            for path in layout.campaign_files(cid):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(cid, encoding="utf-8", errors="surrogatepass")
        written = [Path(d) / f for d, _, files in os.walk(root) for f in files]
        assert len(written) == 9 * len(ids), "one file per id and name: none shared"
        real_out = out.resolve()
        assert all(real_out in p.resolve().parents for p in written)


def test_a_failed_atomic_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "run.json"
    target.write_text("old", encoding="utf-8")

    def refuse(src: object, dst: object) -> None:
        raise OSError("rename refused")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="rename refused"):
        atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
