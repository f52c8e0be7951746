"""Batch prediction: finding files, batching the model, skipping bad files with a reason."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from emoscope.errors import AudioDecodeError, ConfigError
from emoscope.inference import Predictor
from emoscope.inference.batch import (
    BatchResult,
    FilePrediction,
    find_audio_files,
    predict_files,
    predict_timelines,
)
from emoscope.testing import speechlike, write_audio
from emoscope.testing.bundles import DEFAULT_LABELS, make_bundle

TIMELINE = "emoscope.inference.timeline"


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    return Predictor.from_bundle(make_bundle(tmp_path_factory.mktemp("batch") / "b"))


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- find_audio_files


def test_folders_are_walked_in_natural_order(tmp_path: Path) -> None:
    root = tmp_path / "in"
    names = ["clip10.wav", "clip2.wav", "Clip1.FLAC", "sub2/a.mp3", "sub10/a.ogg",
             "sub2/film.mp4", "notes.txt", "data.csv", ".hidden.wav", "._clip1.wav",
             ".git/x.wav", "sub2/.cache/y.wav"]
    for n in names:
        _touch(root / n)
    found = [p.relative_to(root).as_posix() for p in find_audio_files([root])]
    assert found == ["Clip1.FLAC", "clip2.wav", "clip10.wav", "sub2/a.mp3", "sub2/film.mp4",
                     "sub10/a.ogg"]


def test_given_files_are_kept_whatever_their_extension(tmp_path: Path) -> None:
    odd = _touch(tmp_path / "recording.dat")
    hidden = _touch(tmp_path / ".hidden.wav")
    missing = tmp_path / "missing.wav"
    assert find_audio_files([odd, str(hidden), missing]) == [odd, hidden, missing]


def test_given_order_is_kept_and_duplicates_dropped(tmp_path: Path) -> None:
    a = _touch(tmp_path / "d" / "a.wav")
    b = _touch(tmp_path / "d" / "b.wav")
    z = _touch(tmp_path / "z.wav")
    assert find_audio_files([z, tmp_path / "d", a, tmp_path / "d" / ".." / "d" / "b.wav"]) == [
        z, a, b]
    assert find_audio_files([tmp_path / "empty_list"]) == [tmp_path / "empty_list"]
    assert find_audio_files([]) == []


def test_empty_folder_gives_no_files(tmp_path: Path) -> None:
    _touch(tmp_path / "readme.md")
    assert find_audio_files([tmp_path]) == []


# ------------------------------------------------------------------------------- predict_files


def _good(tmp_path: Path, n: int, *, seconds: float = 1.5) -> list[Path]:
    return [write_audio(tmp_path / f"good{i}.wav", speechlike(seconds=seconds + 0.25 * i,
                                                             seed=i)) for i in range(n)]


def test_predictions_match_predict_file(predictor: Predictor, tmp_path: Path) -> None:
    files = _good(tmp_path, 5)
    result = predict_files(predictor, files, batch_size=2, progress=False)
    assert isinstance(result, BatchResult) and result.skipped == []
    assert [p.path for p in result.predictions] == files
    for fp, path in zip(result.predictions, files, strict=True):
        single = predictor.predict_file(path)
        assert fp.label == single.label
        assert list(fp.probabilities) == list(DEFAULT_LABELS)
        np.testing.assert_allclose(list(fp.probabilities.values()),
                                   list(single.probabilities.values()), atol=1e-5)
    assert [p.duration for p in result.predictions] == pytest.approx(
        [1.5, 1.75, 2.0, 2.25, 2.5])


def test_batch_size_does_not_change_results(predictor: Predictor, tmp_path: Path) -> None:
    files = _good(tmp_path, 5)
    runs = [predict_files(predictor, files, batch_size=k, progress=False) for k in (1, 3, 16)]
    for other in runs[1:]:
        for a, b in zip(runs[0].predictions, other.predictions, strict=True):
            assert a.label == b.label
            np.testing.assert_allclose(list(a.probabilities.values()),
                                       list(b.probabilities.values()), atol=1e-5)


def test_model_sees_at_most_batch_size_items(predictor: Predictor, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = predictor.proba_from_features

    def spy(feats: list[np.ndarray]) -> np.ndarray:
        sizes.append(len(feats))
        return real(feats)

    monkeypatch.setattr(predictor, "proba_from_features", spy)
    files = _good(tmp_path, 5, seconds=1.0)
    bad = _touch(tmp_path / "bad.wav", "text")
    predict_files(predictor, [*files[:2], bad, *files[2:]], batch_size=2, progress=False)
    assert sizes == [2, 2, 1]


def test_bad_files_are_skipped_with_a_reason(predictor: Predictor, tmp_path: Path) -> None:
    good = _good(tmp_path, 2)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(good[0].read_bytes()[:30])
    empty = _touch(tmp_path / "empty.wav", "")
    text = _touch(tmp_path / "text.wav", "hello, not audio\n" * 20)
    silent = write_audio(tmp_path / "silent.wav", np.zeros(16000, np.float32))
    short = write_audio(tmp_path / "short.wav", speechlike(seconds=0.005))
    long = write_audio(tmp_path / "long.wav", speechlike(seconds=3.0))
    missing = tmp_path / "missing.wav"
    order = [corrupt, good[0], empty, text, silent, short, long, missing, good[1]]
    result = predict_files(predictor, order, max_duration=2.5, progress=False)
    assert [p.path for p in result.predictions] == good
    reasons = dict(result.skipped)
    assert list(reasons) == [corrupt, empty, text, silent, short, long, missing]
    assert "not a readable audio" in reasons[corrupt]
    assert "empty" in reasons[empty]
    assert "not a readable audio" in reasons[text]
    assert "no signal" in reasons[silent]
    assert "shorter than" in reasons[short]
    assert "longer than" in reasons[long] and "--timeline" in reasons[long]
    assert "no such file" in reasons[missing]


def test_no_duration_limit(predictor: Predictor, tmp_path: Path) -> None:
    long = write_audio(tmp_path / "long.wav", speechlike(seconds=3.0))
    assert predict_files(predictor, [long], max_duration=2.0, progress=False).skipped
    result = predict_files(predictor, [long], max_duration=None, progress=False)
    assert result.predictions[0].duration == pytest.approx(3.0)


def test_video_sound_track_is_predicted(predictor: Predictor, tmp_path: Path) -> None:
    from emoscope.testing.media import write_video

    video = write_video(tmp_path / "v.avi", speechlike(seconds=1.5), 16000)
    mute = write_video(tmp_path / "mute.mp4", None, seconds=1.0)
    result = predict_files(predictor, [video, mute], progress=False)
    assert [p.path for p in result.predictions] == [video]
    assert result.predictions[0].duration == pytest.approx(1.5, abs=0.1)
    assert result.skipped == [(mute, "the file has no audio stream")]


def test_nothing_to_do_and_bad_batch_size(predictor: Predictor) -> None:
    assert predict_files(predictor, [], progress=False) == BatchResult()
    with pytest.raises(ConfigError, match="batch_size"):
        predict_files(predictor, [], batch_size=0)


# --------------------------------------------------------------------------- predict_timelines


def _fake_timeline_module(calls: list[Path]) -> types.ModuleType:
    """A stand-in for the timeline module returning fixed real Timeline objects."""
    real = pytest.importorskip(TIMELINE)
    mod = types.ModuleType(TIMELINE)

    def timeline(path: Path, predictor: Predictor) -> object:
        calls.append(path)
        if path.name.startswith("bad"):
            raise AudioDecodeError("corrupt audio stream", path=path)
        if path.name.startswith("void"):
            return real.Timeline([], 5.0, list(DEFAULT_LABELS))
        a = dict(zip(DEFAULT_LABELS, (0.7, 0.1, 0.1, 0.1), strict=True))
        s = dict(zip(DEFAULT_LABELS, (0.1, 0.1, 0.2, 0.6), strict=True))
        return real.Timeline([real.Segment(0.5, 3.5, "angry", a),
                              real.Segment(4.0, 5.0, "sad", s)], 6.0, list(DEFAULT_LABELS))

    mod.timeline = timeline  # type: ignore[attr-defined]
    return mod


def test_timelines_carry_segments_and_summary(predictor: Predictor, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setitem(sys.modules, TIMELINE, _fake_timeline_module(calls))
    paths = [tmp_path / "a.wav", tmp_path / "bad.wav", tmp_path / "void.wav"]
    result = predict_timelines(predictor, paths, progress=False)
    assert calls == paths
    assert result.skipped == [(paths[1], "corrupt audio stream"),
                              (paths[2], "no speech found")]
    (fp,) = result.predictions
    assert isinstance(fp, FilePrediction) and fp.path == paths[0]
    assert fp.duration == 6.0 and [s.label for s in fp.segments or []] == ["angry", "sad"]
    # weighted by segment duration: (3 * angry-ish + 1 * sad-ish) / 4
    assert list(fp.probabilities) == list(DEFAULT_LABELS)
    assert fp.probabilities == pytest.approx(
        {"angry": 0.55, "happy": 0.1, "neutral": 0.125, "sad": 0.225})
    assert fp.label == "angry"


def test_timeline_unavailable_is_a_config_error(predictor: Predictor,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, TIMELINE, None)
    with pytest.raises(ConfigError, match="timeline is not available"):
        predict_timelines(predictor, [Path("a.wav")], progress=False)
