"""``emoscope predict`` and the batch API on real recordings of ../shared/data (TESS, RAVDESS).

The bundle is an untrained tiny model (the shipped default is not built yet), so the labels are
meaningless; what is checked is that real speech flows through the whole path: decoding,
durations, batching, other rates and containers, the CLI's output, and timelines.
"""

from __future__ import annotations

import csv
import json
import shutil
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emoscope.audio.dsp import resample
from emoscope.cli import main
from emoscope.inference import Predictor
from emoscope.inference.batch import find_audio_files, predict_files
from emoscope.testing import write_audio
from emoscope.testing.bundles import DEFAULT_LABELS, make_bundle

TESS = "TESS/TESS_Toronto_emotional_speech_set_data"
RAVDESS = "RAVDESS/audio_speech_actors_01-24"
FILES = [
    f"{TESS}/OAF_angry/OAF_bar_angry.flac",
    f"{TESS}/YAF_sad/YAF_back_sad.flac",
    f"{TESS}/OAF_happy/OAF_bath_happy.flac",
    f"{RAVDESS}/Actor_01/03-01-01-01-01-01-01.flac",
    f"{RAVDESS}/Actor_02/03-01-05-02-01-01-02.flac",
    f"{RAVDESS}/Actor_13/03-01-04-01-02-02-13.flac",
]


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    return Predictor.from_bundle(make_bundle(tmp_path_factory.mktemp("real") / "b"))


@pytest.fixture(scope="module")
def real_files(shared_data: Path) -> list[Path]:
    paths = [shared_data / f for f in FILES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"missing real recordings: {missing}")
    return paths


def _manifest_durations(shared_data: Path) -> dict[Path, float]:
    out: dict[Path, float] = {}
    for corpus in ("TESS", "RAVDESS"):
        with (shared_data / corpus / "manifest.csv").open() as fh:
            for row in csv.DictReader(fh):
                out[shared_data / corpus / row["file"]] = float(row["duration_s"])
    return out


def _vec(probabilities: dict[str, float]) -> np.ndarray:
    return np.array([probabilities[lab] for lab in DEFAULT_LABELS])


def test_batch_on_real_recordings(predictor: Predictor, real_files: list[Path],
                                  shared_data: Path) -> None:
    result = predict_files(predictor, real_files, batch_size=4, progress=False)
    assert result.skipped == []
    assert [p.path for p in result.predictions] == real_files
    durations = _manifest_durations(shared_data)
    for fp in result.predictions:
        assert fp.duration == pytest.approx(durations[fp.path], abs=0.01)
        assert sum(fp.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        single = predictor.predict_file(fp.path)
        assert fp.label == single.label
        np.testing.assert_allclose(_vec(fp.probabilities), _vec(single.probabilities),
                                   atol=1e-5)


def test_other_rates_and_containers_agree(predictor: Predictor, real_files: list[Path],
                                          tmp_path: Path) -> None:
    from emoscope.testing.media import write_video

    y, sr = sf.read(real_files[3], dtype="float32")
    y44 = resample(y, sr, 44100).astype(np.float32)
    stereo = write_audio(tmp_path / "stereo44.wav", np.stack([y44, 0.8 * y44]), 44100)
    video = write_video(tmp_path / "clip.mkv", y, sr)
    files = [real_files[3], stereo, video, real_files[0]]
    result = predict_files(predictor, files, progress=False)
    assert result.skipped == []
    ref, st, vid, other = (_vec(p.probabilities) for p in result.predictions)
    far = np.abs(other - ref).max()
    assert far > 0
    assert np.abs(st - ref).max() < 0.1 * far
    assert np.abs(vid - ref).max() < 0.3 * far  # Opus is lossy


def test_cli_on_a_folder_of_real_recordings(real_files: list[Path], predictor: Predictor,
                                            tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for i, f in enumerate(real_files):
        shutil.copy(f, folder / f"take{i + 1}.flac")
    data = (folder / "take1.flac").read_bytes()
    (folder / "take7_truncated.flac").write_bytes(data[: len(data) // 3])
    (folder / "take8_header_only.flac").write_bytes(data[:100])
    out = tmp_path / "p.json"
    rc = main(["predict", str(folder), "--bundle", str(predictor.bundle.path), "--out",
               str(out)])
    assert rc == 0
    records = json.loads(out.read_text())
    skipped = {ln.split(": ", 1)[0].removeprefix("skipped ")
               for ln in capsys.readouterr().err.splitlines() if ln.startswith("skipped ")}
    names = [Path(r["path"]).name for r in records]
    assert names[:6] == [f"take{i}.flac" for i in range(1, 7)]
    assert str(folder / "take8_header_only.flac") in skipped
    # a truncated file is either predicted from what decodes or skipped, never both or lost
    truncated = str(folder / "take7_truncated.flac")
    assert (truncated in skipped) != ("take7_truncated.flac" in names)
    for r in records:
        assert list(r) == ["path", "label", "probabilities", "duration"]
        assert list(r["probabilities"]) == list(DEFAULT_LABELS)


def test_timeline_of_real_speech(predictor: Predictor, real_files: list[Path], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("emoscope.inference.timeline")
    pause = np.zeros(16000, np.float32)
    parts, spans, t = [pause], [], 1.0
    for f in real_files[:3]:
        y, sr = sf.read(f, dtype="float32")
        assert sr == 16000
        parts += [y, pause]
        spans.append((t, t + len(y) / sr))
        t += len(y) / sr + 1.0
    long = write_audio(tmp_path / "three_words.wav", np.concatenate(parts))
    assert find_audio_files([tmp_path]) == [long]
    assert main(["predict", str(long), "--bundle", str(predictor.bundle.path), "--timeline",
                 "--format", "json"]) == 0
    (rec,) = json.loads(capsys.readouterr().out)
    assert rec["duration"] == pytest.approx(t, abs=0.05)
    segs = rec["segments"]
    assert segs and all(list(s) == ["start", "end", "label", "probabilities"] for s in segs)
    assert all(a["end"] <= b["start"] for a, b in pairwise(segs))
    assert all(0.0 <= s["start"] < s["end"] <= rec["duration"] for s in segs)
    for start, end in spans:  # every utterance is covered by some segment
        assert any(s["start"] < end and s["end"] > start for s in segs)
    for s in segs:  # and no segment lies inside a pause
        assert any(s["start"] < end and s["end"] > start for start, end in spans)
