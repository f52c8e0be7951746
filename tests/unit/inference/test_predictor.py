"""Predictor: probabilities in label order, any rate and channel count, batch = items alone,
our own errors for bad waveforms, bad bundles and unreadable files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from emoscope.audio.dsp import resample
from emoscope.errors import (
    AudioDecodeError,
    AudioError,
    AudioTooLongError,
    BundleError,
    EmptyAudioError,
    SilentAudioError,
)
from emoscope.inference import Predictor, default_bundle_path
from emoscope.testing import noise, speechlike, tone, write_audio
from emoscope.testing.bundles import DEFAULT_LABELS, make_bundle


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("predictor") / "b")


@pytest.fixture(scope="module")
def predictor(bundle_dir: Path) -> Predictor:
    return Predictor.from_bundle(bundle_dir)


def _clip(seconds: float = 2.0, seed: int = 3) -> np.ndarray:
    return speechlike(seconds=seconds, seed=seed)


# ------------------------------------------------------------------------------ probabilities


def test_probabilities_sum_to_one_in_label_order(predictor: Predictor) -> None:
    pred = predictor.predict(_clip(), 16000)
    assert predictor.labels == list(DEFAULT_LABELS)
    assert list(pred.probabilities) == list(DEFAULT_LABELS)
    assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert all(0.0 <= v <= 1.0 for v in pred.probabilities.values())
    assert pred.label == max(pred.probabilities, key=pred.probabilities.__getitem__)
    assert pred.to_dict() == {"label": pred.label, "probabilities": pred.probabilities}


def test_predict_proba_rows_match_predict(predictor: Predictor) -> None:
    clips = [_clip(1.0, 1), _clip(1.5, 2), tone(300, seconds=1.2)]
    probs = predictor.predict_proba(clips, 16000, batch_size=2)
    assert probs.shape == (3, len(DEFAULT_LABELS)) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    for clip, row in zip(clips, probs, strict=True):
        single = predictor.predict(clip, 16000).probabilities
        np.testing.assert_allclose(row, list(single.values()), atol=1e-5)
    assert predictor.predict_proba([], 16000).shape == (0, len(DEFAULT_LABELS))


def _at(y: np.ndarray, sr: int, channels: int) -> np.ndarray:
    ys = resample(y, 16000, sr).astype(np.float32)
    return np.stack([ys * (1.0 - 0.05 * c) for c in range(channels)]) if channels > 1 else ys


@pytest.mark.parametrize(("sr", "channels"), [(8000, 1), (8000, 2), (11025, 1)])
def test_narrowband_input_gives_a_valid_prediction(predictor: Predictor, sr: int,
                                                   channels: int) -> None:
    pred = predictor.predict(_at(_clip(), sr, channels), sr)
    got = np.array(list(pred.probabilities.values()))
    assert np.isfinite(got).all() and got.sum() == pytest.approx(1.0, abs=1e-5)
    assert pred.label in DEFAULT_LABELS


@pytest.mark.parametrize(("sr", "channels"), [(16000, 2), (22050, 1), (44100, 2), (48000, 2),
                                              (32000, 6), (96000, 1)])
def test_any_rate_and_channel_count(predictor: Predictor, sr: int, channels: int) -> None:
    y = _clip()
    ref = np.array(list(predictor.predict(y, 16000).probabilities.values()))
    other = np.array(list(predictor.predict(tone(300, seconds=2.0), 16000).probabilities.values()))
    pred = predictor.predict(_at(y, sr, channels), sr)
    got = np.array(list(pred.probabilities.values()))
    assert got.sum() == pytest.approx(1.0, abs=1e-5) and np.isfinite(got).all()
    # much closer to the same clip at 16 kHz mono than a different clip is
    assert np.abs(got - ref).max() < 0.1 * np.abs(other - ref).max()
    if sr == 44100 and channels == 2:
        assert np.abs(got - ref).max() < 1e-3


def test_stereo_44k_features_match_mono_16k(predictor: Predictor) -> None:
    y = _clip()
    y44 = resample(y, 16000, 44100).astype(np.float32)
    a = predictor.features(y, 16000)
    b = predictor.features(np.stack([y44, y44]), 44100)
    assert a.shape == b.shape
    # the resampler's anti-aliasing filter empties the mel bands next to 8 kHz; all else agrees
    low = slice(None), slice(0, a.shape[1] - 4)
    assert np.abs(a[low] - b[low]).mean() < 0.05
    assert np.corrcoef(a[low].ravel(), b[low].ravel())[0, 1] > 0.999


def test_padded_batch_equals_items_alone(predictor: Predictor) -> None:
    clips = [_clip(0.8, 1), _clip(2.7, 2), noise(seconds=1.3, amplitude=0.2), _clip(1.9, 4)]
    feats = [predictor.features(c, 16000) for c in clips]
    assert len({f.shape for f in feats}) == len(clips)  # really padded
    batch = predictor.proba_from_features(feats)
    alone = np.concatenate([predictor.proba_from_features([f]) for f in feats])
    np.testing.assert_allclose(batch, alone, atol=1e-5)
    np.testing.assert_allclose(predictor.predict_proba(clips, 16000, batch_size=4), alone,
                               atol=1e-5)


# ------------------------------------------------------------------------------ bad waveforms


@pytest.mark.parametrize(("waveform", "error"), [
    (np.zeros(16000, np.float32), SilentAudioError),
    (np.zeros((2, 16000), np.float32), SilentAudioError),
    (1e-5 * speechlike(seconds=1.0), SilentAudioError),
    (np.zeros(0, np.float32), EmptyAudioError),
    (np.zeros((2, 0), np.float32), EmptyAudioError),
], ids=["silence", "stereo-silence", "far-below-speech", "empty", "empty-stereo"])
def test_silent_and_empty_waveforms(predictor: Predictor, waveform: np.ndarray,
                                    error: type[AudioError]) -> None:
    with pytest.raises(error):
        predictor.predict(waveform, 16000)


def _with(value: float) -> np.ndarray:
    y = speechlike(seconds=1.0).copy()
    y[100] = value
    return y


@pytest.mark.parametrize("waveform", [
    _with(np.nan),
    _with(np.inf),
    (speechlike(seconds=1.0) * 32767).astype(np.int16),
    (speechlike(seconds=1.0) * 2**30).astype(np.int32),
    speechlike(seconds=1.0).reshape(1, 1, -1),
    speechlike(seconds=0.005),
], ids=["nan", "inf", "int16", "int32", "3-d", "shorter-than-a-window"])
def test_unusable_waveforms_raise_audio_error(predictor: Predictor,
                                               waveform: np.ndarray) -> None:
    with pytest.raises(AudioError):
        predictor.predict(waveform, 16000)


def test_nonpositive_rate_is_an_audio_error(predictor: Predictor) -> None:
    with pytest.raises(AudioError, match="sample rate"):
        predictor.predict(_clip(), 0)


# -------------------------------------------------------------------------------- bad bundles


def _copy(bundle_dir: Path, dest: Path) -> Path:
    return Path(shutil.copytree(bundle_dir, dest))


def test_bundle_round_trip(bundle_dir: Path, predictor: Predictor) -> None:
    again = Predictor.from_bundle(str(bundle_dir))
    y = _clip()
    assert again.predict(y, 16000) == predictor.predict(y, 16000)
    assert predictor.sample_rate == 16000
    assert predictor.info["labels"] == list(DEFAULT_LABELS)
    assert predictor.info["model"] == "crnn-asp"
    assert "crnn-asp" in repr(predictor)


def test_missing_bundle_dir(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such model bundle"):
        Predictor.from_bundle(tmp_path / "nope")


def test_dir_without_bundle_json(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"no bundle\.json"):
        Predictor.from_bundle(tmp_path)


def test_corrupt_bundle_json(bundle_dir: Path, tmp_path: Path) -> None:
    b = _copy(bundle_dir, tmp_path / "b")
    (b / "bundle.json").write_text('{"format": "emoscope-bundle", ')
    with pytest.raises(BundleError, match=r"corrupt bundle\.json"):
        Predictor.from_bundle(b)


def test_bundle_json_of_something_else(bundle_dir: Path, tmp_path: Path) -> None:
    b = _copy(bundle_dir, tmp_path / "b")
    (b / "bundle.json").write_text('["not", "a", "bundle"]')
    with pytest.raises(BundleError, match="not an emoscope model bundle"):
        Predictor.from_bundle(b)


def test_future_format_version(bundle_dir: Path, tmp_path: Path) -> None:
    b = _copy(bundle_dir, tmp_path / "b")
    meta = json.loads((b / "bundle.json").read_text())
    meta["format_version"] = meta["format_version"] + 1
    (b / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="newer than this emoscope reads"):
        Predictor.from_bundle(b)


def test_incomplete_bundle_json(bundle_dir: Path, tmp_path: Path) -> None:
    b = _copy(bundle_dir, tmp_path / "b")
    meta = json.loads((b / "bundle.json").read_text())
    del meta["model"]
    (b / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="incomplete bundle"):
        Predictor.from_bundle(b)


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_truncated_or_missing_weights(bundle_dir: Path, tmp_path: Path, damage: str) -> None:
    b = _copy(bundle_dir, tmp_path / "b")
    w = b / "weights.safetensors"
    if damage == "truncate":
        w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    else:
        w.unlink()
    with pytest.raises(BundleError, match="unreadable weights"):
        Predictor.from_bundle(b)


def test_missing_default_bundle_has_a_helpful_message(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOSCOPE_DEFAULT_BUNDLE", str(tmp_path / "absent"))
    assert default_bundle_path() == tmp_path / "absent"
    with pytest.raises(BundleError, match="no default model found") as info:
        Predictor.from_bundle()
    assert "--bundle" in str(info.value) and str(tmp_path / "absent") in str(info.value)


def test_default_bundle_from_env(bundle_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOSCOPE_DEFAULT_BUNDLE", str(bundle_dir))
    assert Predictor.from_bundle().labels == list(DEFAULT_LABELS)


# ------------------------------------------------------------------------------------- files


def test_predict_file_wav_matches_waveform(predictor: Predictor, tmp_path: Path) -> None:
    y = _clip()
    path = write_audio(tmp_path / "a.wav", y, 16000, subtype="FLOAT")
    assert predictor.predict_file(path) == predictor.predict(y, 16000)


def test_predict_file_stereo_44k_flac(predictor: Predictor, tmp_path: Path) -> None:
    y = _clip()
    y44 = resample(y, 16000, 44100).astype(np.float32)
    path = write_audio(tmp_path / "a.flac", np.stack([y44, y44]), 44100)
    got = np.array(list(predictor.predict_file(path).probabilities.values()))
    ref = np.array(list(predictor.predict(y, 16000).probabilities.values()))
    assert np.abs(got - ref).max() < 1e-3


def test_predict_file_video_sound_track(predictor: Predictor, tmp_path: Path) -> None:
    from emoscope.audio.io import audio_info
    from emoscope.testing.media import write_video

    y = _clip()
    video = write_video(tmp_path / "v.mp4", y, 16000)
    info = audio_info(video)
    assert info.channels == 1 and info.duration == pytest.approx(2.0, abs=0.1)
    got = np.array(list(predictor.predict_file(video).probabilities.values()))
    ref = np.array(list(predictor.predict(y, 16000).probabilities.values()))
    other = np.array(list(predictor.predict(tone(300, seconds=2.0), 16000)
                          .probabilities.values()))
    assert got.sum() == pytest.approx(1.0, abs=1e-5)
    assert np.abs(got - ref).max() < 0.2 * np.abs(other - ref).max()  # AAC is lossy


def test_predict_file_video_without_sound(predictor: Predictor, tmp_path: Path) -> None:
    from emoscope.testing.media import write_video

    video = write_video(tmp_path / "mute.mp4", None, seconds=1.0)
    with pytest.raises(AudioDecodeError, match="no audio stream") as info:
        predictor.predict_file(video)
    assert info.value.path == str(video)


def test_predict_file_bad_files_name_the_file(predictor: Predictor, tmp_path: Path) -> None:
    silent = write_audio(tmp_path / "silent.wav", np.zeros(16000, np.float32))
    text = tmp_path / "text.wav"
    text.write_text("not audio at all\n" * 10)
    empty = tmp_path / "empty.wav"
    empty.touch()
    cases = [(silent, SilentAudioError), (text, AudioDecodeError), (empty, EmptyAudioError),
             (tmp_path / "missing.wav", AudioDecodeError)]
    for path, error in cases:
        with pytest.raises(error) as info:
            predictor.predict_file(path)
        assert info.value.path == str(path) and info.value.reason


def test_predict_file_too_long_suggests_a_timeline(predictor: Predictor,
                                                   tmp_path: Path) -> None:
    path = write_audio(tmp_path / "long.wav", _clip(3.0), 16000)
    with pytest.raises(AudioTooLongError, match="--timeline") as info:
        predictor.predict_file(path, max_duration=2.0)
    assert info.value.path == str(path)
    assert predictor.predict_file(path, max_duration=None).label in DEFAULT_LABELS
