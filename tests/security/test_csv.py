"""Spreadsheet formula injection: every CSV simkit writes goes through simkit.sheets."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from simkit import make_rng, sheets
from simkit.data import load
from simkit.data.synthetic import generate as generate_synthetic

PACKAGE = Path(sheets.__file__).parent


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x"])
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert sheets.neutralise(cell) == "'" + cell


def test_numbers_and_plain_text_are_left_alone(tmp_path: Path) -> None:
    frame = pd.DataFrame({"campaign_id": ['=HYPERLINK("http://x")', "C1"], "spend": [-5.0, 3.0]})
    out = sheets.write_csv(frame, tmp_path / "x.csv")
    back = pd.read_csv(out)
    assert back["campaign_id"].tolist() == ['\'=HYPERLINK("http://x")', "C1"]
    assert back["spend"].tolist() == [-5.0, 3.0]


def test_no_csv_is_written_but_through_sheets() -> None:
    writers = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "sheets.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("to_csv", "writer", "DictWriter"):
                writers.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
    assert writers == []


def test_generated_data_is_written_neutralised(tmp_path: Path) -> None:
    world = generate_synthetic(1, 30, rng=make_rng(1))
    world.data["creative_id"] = "=cmd|' /C calc'!A0"
    data_path, _ = world.write(tmp_path)
    text = data_path.read_text()
    assert ",'=cmd|" in text and ",=cmd" not in text
    assert load(data_path).data["creative_id"].iloc[0] == "'=cmd|' /C calc'!A0"
