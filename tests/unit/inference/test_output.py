"""Output writers: exact JSON records, CSV columns, the rich table, with and without segments."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from emoscope.errors import ConfigError
from emoscope.inference.batch import FilePrediction
from emoscope.inference.output import (
    FORMATS,
    format_from_path,
    render_table,
    to_records,
    write_csv,
    write_json,
    write_predictions,
)

LABELS = ["angry", "happy", "sad"]


@dataclass(frozen=True)
class Seg:
    start: float
    end: float
    label: str
    probabilities: dict[str, float]


def _probs(*values: float) -> dict[str, float]:
    return dict(zip(LABELS, values, strict=True))


A = FilePrediction(Path("clips/a.wav"), "angry", _probs(0.7, 0.2, 0.1), 2.5)
B = FilePrediction(Path("clips/b.flac"), "sad", _probs(0.1, 0.3000000004, 0.5999999996),
                   1.23456)
T = FilePrediction(Path("long.wav"), "happy", _probs(0.2, 0.5, 0.3), 6.0,
                   segments=[Seg(0.0, 3.0, "happy", _probs(0.2, 0.6, 0.2)),
                             Seg(1.0, 4.0, "angry", _probs(0.5, 0.25, 0.25)),
                             Seg(3.0, 6.0, "sad", _probs(0.1, 0.2, 0.7))])


def test_records_exact() -> None:
    assert to_records([A, B]) == [
        {"path": "clips/a.wav", "label": "angry",
         "probabilities": {"angry": 0.7, "happy": 0.2, "sad": 0.1}, "duration": 2.5},
        {"path": "clips/b.flac", "label": "sad",
         "probabilities": {"angry": 0.1, "happy": 0.3, "sad": 0.6}, "duration": 1.235},
    ]


def test_records_with_segments_exact() -> None:
    (rec,) = to_records([T])
    assert rec == {
        "path": "long.wav", "label": "happy",
        "probabilities": {"angry": 0.2, "happy": 0.5, "sad": 0.3}, "duration": 6.0,
        "segments": [
            {"start": 0.0, "end": 3.0, "label": "happy",
             "probabilities": {"angry": 0.2, "happy": 0.6, "sad": 0.2}},
            {"start": 1.0, "end": 4.0, "label": "angry",
             "probabilities": {"angry": 0.5, "happy": 0.25, "sad": 0.25}},
            {"start": 3.0, "end": 6.0, "label": "sad",
             "probabilities": {"angry": 0.1, "happy": 0.2, "sad": 0.7}},
        ],
    }


def test_label_order_follows_labels_argument() -> None:
    (rec,) = to_records([A], labels=["sad", "angry", "happy"])
    assert list(rec["probabilities"]) == ["sad", "angry", "happy"]


def test_json_is_a_list_of_records() -> None:
    buf = io.StringIO()
    write_json([A, T], buf, labels=LABELS)
    data = json.loads(buf.getvalue())
    assert data == to_records([A, T], labels=LABELS)
    assert [set(d) for d in data] == [{"path", "label", "probabilities", "duration"},
                                      {"path", "label", "probabilities", "duration", "segments"}]
    buf = io.StringIO()
    write_json([], buf)
    assert json.loads(buf.getvalue()) == []


def test_csv_one_row_per_file() -> None:
    buf = io.StringIO()
    write_csv([A, B], buf, labels=LABELS)
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows == [["path", "label", "duration", "angry", "happy", "sad"],
                    ["clips/a.wav", "angry", "2.5", "0.7", "0.2", "0.1"],
                    ["clips/b.flac", "sad", "1.235", "0.1", "0.3", "0.6"]]


def test_csv_one_row_per_segment_with_a_timeline() -> None:
    buf = io.StringIO()
    write_csv([T, A], buf, labels=LABELS)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert list(rows[0]) == ["path", "start", "end", "label", "angry", "happy", "sad"]
    assert [(r["path"], r["start"], r["end"], r["label"]) for r in rows] == [
        ("long.wav", "0.0", "3.0", "happy"), ("long.wav", "1.0", "4.0", "angry"),
        ("long.wav", "3.0", "6.0", "sad"), ("clips/a.wav", "0.0", "2.5", "angry")]
    assert [float(rows[2][lab]) for lab in LABELS] == [0.1, 0.2, 0.7]


def test_csv_paths_with_commas_and_quotes_round_trip() -> None:
    odd = FilePrediction(Path('my, "odd" clip.wav'), "happy", _probs(0.1, 0.8, 0.1), 1.0)
    buf = io.StringIO()
    write_csv([odd], buf, labels=LABELS)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert rows[0]["path"] == 'my, "odd" clip.wav' and rows[0]["happy"] == "0.8"


def _text(table: object) -> str:
    buf = io.StringIO()
    Console(file=buf, width=200, color_system=None).print(table)
    return buf.getvalue()


def test_table_rows() -> None:
    text = _text(render_table([A, B], labels=LABELS))
    lines = [ln for ln in text.splitlines() if "clips/" in ln]
    assert len(lines) == 2
    cells_a = [c.strip() for c in lines[0].split("│") if c.strip()]
    assert cells_a == ["clips/a.wav", "angry", "0.700", "0.700", "0.200", "0.100"]
    cells_b = [c.strip() for c in lines[1].split("│") if c.strip()]
    assert cells_b == ["clips/b.flac", "sad", "0.600", "0.100", "0.300", "0.600"]
    header = next(ln for ln in text.splitlines() if "path" in ln)
    assert [c.strip() for c in header.split("┃") if c.strip()] == ["path", "label", "p",
                                                                    *LABELS]


def test_table_shows_segments_under_their_file() -> None:
    text = _text(render_table([T]))
    lines = [ln for ln in text.splitlines() if "│" in ln]
    assert "long.wav" in lines[0]
    assert ["0.0–3.0 s" in lines[1], "1.0–4.0 s" in lines[2], "3.0–6.0 s" in lines[3]] == [
        True, True, True]
    assert [c.strip() for c in lines[3].split("│") if c.strip()][1:3] == ["sad", "0.700"]


@pytest.mark.parametrize(("path", "fmt"), [("x.json", "json"), ("OUT.CSV", "csv"),
                                          ("x.txt", "table"), (None, "table")])
def test_format_from_path(path: str | None, fmt: str) -> None:
    assert format_from_path(path) == fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_predictions_to_a_file(fmt: str) -> None:
    buf = io.StringIO()
    write_predictions([A, B], format=fmt, labels=LABELS, file=buf)
    text = buf.getvalue()
    assert "clips/a.wav" in text and "clips/b.flac" in text
    if fmt == "json":
        assert json.loads(text) == to_records([A, B], labels=LABELS)
    elif fmt == "csv":
        assert text.splitlines()[0] == "path,label,duration,angry,happy,sad"
    else:
        assert "\x1b[" not in text  # no colour codes in a file


def test_write_predictions_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_predictions([A], format="json", labels=LABELS)
    assert json.loads(capsys.readouterr().out)[0]["path"] == "clips/a.wav"


def test_unknown_format() -> None:
    with pytest.raises(ConfigError, match="unknown output format 'xml'"):
        write_predictions([A], format="xml", file=io.StringIO())
