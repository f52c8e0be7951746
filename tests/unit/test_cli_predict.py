"""``emoscope predict``: good files predicted, bad ones listed on stderr, exact JSON shape,
exit codes, one-line errors."""

from __future__ import annotations

import csv
import json
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from emoscope.cli import main
from emoscope.testing import speechlike, write_audio
from emoscope.testing.bundles import DEFAULT_LABELS, make_bundle

TIMELINE = "emoscope.inference.timeline"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("cli_predict") / "bundle")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three good clips and four bad files (corrupt, empty, text, silent) in a tree."""
    root = tmp_path / "in"
    for i in (1, 2, 10):
        write_audio(root / f"clip{i}.wav", speechlike(seconds=1.0 + 0.25 * i, seed=i))
    (root / "corrupt.wav").write_bytes((root / "clip1.wav").read_bytes()[:40])
    (root / "empty.wav").touch()
    (root / "sub").mkdir()
    (root / "sub" / "text.wav").write_text("this is not audio\n" * 30)
    write_audio(root / "sub" / "silent.flac", np.zeros(16000, np.float32))
    (root / "notes.txt").write_text("ignored: not an audio extension")
    return root


GOOD = ["clip1.wav", "clip2.wav", "clip10.wav"]
BAD = {"corrupt.wav": "not a readable audio", "empty.wav": "empty",
       "sub/text.wav": "not a readable audio", "sub/silent.flac": "no signal"}


def _skipped(stderr: str) -> dict[str, str]:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("skipped ")]
    return dict(ln.removeprefix("skipped ").split(": ", 1) for ln in lines)


def _check_stderr(stderr: str, root: Path) -> None:
    skipped = _skipped(stderr)
    assert set(skipped) == {str(root / name) for name in BAD}
    for name, reason in BAD.items():
        assert reason in skipped[str(root / name)]
    assert "predicted 3 file(s), skipped 4" in stderr


def test_json_shape_is_exact(bundle: Path, folder: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(folder), "--bundle", str(bundle), "--format", "json"]) == 0
    cap = capsys.readouterr()
    data = json.loads(cap.out)
    assert isinstance(data, list) and [d["path"] for d in data] == [str(folder / n) for n in GOOD]
    for d in data:
        assert list(d) == ["path", "label", "probabilities", "duration"]
        assert list(d["probabilities"]) == list(DEFAULT_LABELS)
        assert sum(d["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert d["label"] == max(d["probabilities"], key=d["probabilities"].__getitem__)
    assert [d["duration"] for d in data] == [1.25, 1.5, 3.5]
    _check_stderr(cap.err, folder)


def test_default_table(bundle: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(folder), "--bundle", str(bundle)]) == 0
    cap = capsys.readouterr()
    rows = [ln for ln in cap.out.splitlines() if "clip" in ln]
    assert [next(n for n in reversed(GOOD) if n in r) for r in rows] == GOOD
    header = next(ln for ln in cap.out.splitlines() if "path" in ln)
    assert all(lab in header for lab in DEFAULT_LABELS)
    assert "skipped" not in cap.out
    _check_stderr(cap.err, folder)


def test_csv_to_out_file(bundle: Path, folder: Path, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "res" / "p.csv"
    assert main(["predict", str(folder / "clip2.wav"), str(folder / "clip1.wav"),
                 "--bundle", str(bundle), "--out", str(out), "--batch-size", "1"]) == 0
    cap = capsys.readouterr()
    assert cap.out == ""
    assert f"wrote {out}" in cap.err
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["path", "label", "duration", *DEFAULT_LABELS]
    assert [r["path"] for r in rows] == [str(folder / "clip2.wav"), str(folder / "clip1.wav")]
    assert sum(float(rows[0][lab]) for lab in DEFAULT_LABELS) == pytest.approx(1.0, abs=1e-4)


def test_json_format_follows_out_extension(bundle: Path, folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    assert main(["predict", str(folder / "clip1.wav"), "--bundle", str(bundle),
                 "--out", str(out)]) == 0
    assert [d["path"] for d in json.loads(out.read_text())] == [str(folder / "clip1.wav")]


def test_csv_to_stdout(bundle: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(folder / "clip1.wav"), "--bundle", str(bundle),
                 "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "path,label,duration," + ",".join(DEFAULT_LABELS) and len(lines) == 2


def _one_line_error(stderr: str) -> str:
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in stderr
    return errors[0]


def test_all_skipped_exits_1(bundle: Path, folder: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(folder / "sub"), str(folder / "empty.wav"),
                 "--bundle", str(bundle), "--format", "json"]) == 1
    cap = capsys.readouterr()
    assert cap.out == ""
    assert set(_skipped(cap.err)) == {str(folder / n) for n in ("sub/silent.flac",
                                                                 "sub/text.wav", "empty.wav")}
    assert "no file could be predicted (3 skipped)" in _one_line_error(cap.err)


def test_missing_file_is_listed_as_skipped(bundle: Path, folder: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(folder / "clip1.wav"), str(folder / "gone.wav"),
                 "--bundle", str(bundle), "--format", "json"]) == 0
    cap = capsys.readouterr()
    assert len(json.loads(cap.out)) == 1
    assert _skipped(cap.err) == {str(folder / "gone.wav"): "no such file"}


def test_folder_without_audio(bundle: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    assert main(["predict", str(tmp_path), "--bundle", str(bundle)]) == 1
    assert "no audio or video files" in _one_line_error(capsys.readouterr().err)


def test_missing_bundle(folder: Path, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(folder), "--bundle", str(tmp_path / "nope")]) == 1
    assert "no such model bundle" in _one_line_error(capsys.readouterr().err)


def test_corrupt_bundle(bundle: Path, folder: Path, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    bad = Path(shutil.copytree(bundle, tmp_path / "bad"))
    (bad / "bundle.json").write_text("{ not json")
    assert main(["predict", str(folder), "--bundle", str(bad)]) == 1
    assert "corrupt bundle.json" in _one_line_error(capsys.readouterr().err)


def test_missing_default_bundle(folder: Path, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EMOSCOPE_DEFAULT_BUNDLE", str(tmp_path / "absent"))
    assert main(["predict", str(folder)]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "no default model found" in line and "--bundle" in line


@pytest.mark.parametrize("args", [["--format", "xml"], ["--batch-size", "0"]])
def test_usage_errors_exit_2(bundle: Path, folder: Path, args: list[str]) -> None:
    assert main(["predict", str(folder), "--bundle", str(bundle), *args]) == 2


def test_no_paths_is_a_usage_error() -> None:
    assert main(["predict"]) == 2


# ---------------------------------------------------------------------------------- timeline


def _fake_timeline_module() -> types.ModuleType:
    """The real timeline module's types, with fixed segments for any readable, non-silent
    file (the real one finds no speech in synthetic signals)."""
    real = pytest.importorskip(TIMELINE)
    mod = types.ModuleType(TIMELINE)

    def timeline(path: Path, predictor: object) -> object:
        from emoscope.audio.io import load_audio
        from emoscope.inference import check_not_silent

        y, _ = load_audio(path)  # bad files fail as they do in the real timeline
        p = dict(zip(DEFAULT_LABELS, (0.1, 0.6, 0.2, 0.1), strict=True))
        if np.abs(y).max() == 0:
            return real.Timeline([], 1.0, list(DEFAULT_LABELS))
        check_not_silent(y)
        return real.Timeline([real.Segment(0.0, 1.0, "happy", p),
                              real.Segment(1.5, 2.0, "happy", p)], 2.5, list(DEFAULT_LABELS))

    mod.timeline = timeline  # type: ignore[attr-defined]
    return mod


def test_timeline_json_has_segments(bundle: Path, folder: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, TIMELINE, _fake_timeline_module())
    assert main(["predict", str(folder), "--bundle", str(bundle), "--timeline",
                 "--format", "json"]) == 0
    cap = capsys.readouterr()
    data = json.loads(cap.out)
    assert [d["path"] for d in data] == [str(folder / n) for n in GOOD]
    seg = {"label": "happy", "probabilities": {"angry": 0.1, "happy": 0.6, "neutral": 0.2,
                                               "sad": 0.1}}
    assert data[0] == {"path": str(folder / "clip1.wav"), "label": "happy",
                       "probabilities": seg["probabilities"], "duration": 2.5,
                       "segments": [{"start": 0.0, "end": 1.0, **seg},
                                    {"start": 1.5, "end": 2.0, **seg}]}
    skipped = _skipped(cap.err)
    assert set(skipped) == {str(folder / n) for n in BAD}
    assert skipped[str(folder / "sub/silent.flac")] == "no speech found"


def test_timeline_csv_has_one_row_per_segment(bundle: Path, folder: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, TIMELINE, _fake_timeline_module())
    assert main(["predict", str(folder / "clip2.wav"), "--bundle", str(bundle), "--timeline",
                 "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [(r["start"], r["end"], r["label"]) for r in rows] == [("0.0", "1.0", "happy"),
                                                                  ("1.5", "2.0", "happy")]


def test_timeline_unavailable_is_one_line(bundle: Path, folder: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, TIMELINE, None)
    assert main(["predict", str(folder), "--bundle", str(bundle), "--timeline"]) == 1
    assert "timeline is not available" in _one_line_error(capsys.readouterr().err)
