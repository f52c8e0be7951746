"""Timelines of long recordings: segments over speech only, merging, bounded memory, bad files.

The speech-like bursts are synthetic, which Silero VAD does not take for speech, so these tests
find them with the energy detector (``vad=False``); tests/integration/test_stream_real.py runs
Silero on real speech.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emoscope.audio.io import load_audio
from emoscope.errors import AudioDecodeError, ConfigError, EmptyAudioError
from emoscope.inference import Predictor
from emoscope.inference.stream import Event, StreamingPredictor
from emoscope.inference.timeline import Timeline, TimelineBuilder, timeline
from emoscope.testing import noise, speechlike, write_audio
from emoscope.testing.bundles import make_bundle

SR = 16000
LABELS = ["angry", "happy", "neutral", "sad"]
BURSTS = [(2.0, 5.0), (8.0, 10.0), (13.5, 14.7)]  # seconds of speech-like sound
TOL = 0.1  # seconds: a frame or two of detector onset, plus the envelope's quiet edges


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    """A small untrained MLP on MFCC statistics: fast, and any window length works."""
    path = make_bundle(tmp_path_factory.mktemp("timeline") / "b", feature="mfcc-mean",
                       model="mlp")
    return Predictor.from_bundle(path)


def _bursts() -> np.ndarray:
    y = noise(seconds=16.0, amplitude=0.001, seed=1)  # about -60 dBFS between the bursts
    for k, (a, b) in enumerate(BURSTS):
        y[round(a * SR):round(b * SR)] += speechlike(seconds=b - a, seed=k, f0=120 + 40 * k)
    return y


@pytest.fixture(scope="module")
def bursts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_audio(tmp_path_factory.mktemp("audio") / "bursts.flac", _bursts(), SR)


def test_segments_cover_the_bursts_and_never_the_silence(predictor: Predictor,
                                                         bursts_file: Path) -> None:
    tl = timeline(bursts_file, predictor, vad=False, hop=0.5)
    assert tl.duration == pytest.approx(16.0)
    assert tl.segments
    for s in tl.segments:
        assert any(a - TOL <= s.start < s.end <= b + TOL for a, b in BURSTS), s
        assert s.label in LABELS and sum(s.probabilities.values()) == pytest.approx(1.0)
    for a, b in BURSTS:
        covered = sum(min(s.end, b) - max(s.start, a) for s in tl.segments
                      if s.end > a and s.start < b)
        assert covered >= (b - a) - 2 * TOL
    starts = [s.start for s in tl.segments]
    assert starts == sorted(starts)
    assert all(x.end <= y.start for x, y in zip(tl.segments, tl.segments[1:], strict=False))


def test_file_and_waveform_and_stream_agree(predictor: Predictor, bursts_file: Path) -> None:
    from_file = timeline(bursts_file, predictor, vad=False, block_seconds=0.7)
    y, sr = load_audio(bursts_file)
    from_array = timeline(y, predictor, sample_rate=sr, vad=False, block_seconds=3.0)
    assert from_file == from_array
    engine = StreamingPredictor(predictor, vad=False, hop=1.0)
    builder = TimelineBuilder(predictor.labels)
    builder.add(engine.push(y, sr))
    builder.add(engine.flush())
    assert builder.build(y.shape[0] / sr) == from_file


def test_overall_label_is_the_duration_weighted_mean(predictor: Predictor,
                                                     bursts_file: Path) -> None:
    tl = timeline(bursts_file, predictor, vad=False)
    total = sum(s.duration for s in tl.segments)
    assert tl.speech_duration == pytest.approx(total)
    for lab in LABELS:
        mean = sum(s.probabilities[lab] * s.duration for s in tl.segments) / total
        assert tl.probabilities[lab] == pytest.approx(mean)
    assert tl.label == max(tl.probabilities, key=tl.probabilities.__getitem__)
    d = tl.to_dict()
    assert set(d) == {"duration", "label", "probabilities", "segments"}
    assert set(d["segments"][0]) == {"start", "end", "label", "probabilities"}


def _event(t: float, label: str, start: float | None = None) -> Event:
    probs = dict.fromkeys(LABELS, 0.1)
    probs[label] = 0.7
    return Event(t, t - 1.0 if start is None else start, t, label, probs, True)


def _pause(t: float, start: float) -> Event:
    return Event(t, start, t, "silence", {}, False)


def test_builder_merges_same_label_windows_within_an_utterance() -> None:
    b = TimelineBuilder(LABELS)
    b.add([_pause(0.5, 0.0), _event(1.5, "sad", start=1.0), _event(2.0, "sad"),
           _event(2.5, "happy"), _event(3.0, "happy"), _event(3.5, "sad"),
           _event(4.0, "sad"),  # decided while waiting for the pause: after the speech
           _pause(4.3, 3.8),
           _event(6.0, "sad", start=5.5), _pause(6.9, 6.4)])
    tl = b.build(7.0)
    rows = [(s.start, s.end, s.label) for s in tl.segments]
    # the utterance [1.0, 3.8]: windows stand for (previous window, this window]; the last
    # one reaches 3.8 and the one at 4.0 is dropped; the next utterance does not merge
    assert rows == [(1.0, 2.0, "sad"), (2.0, 3.0, "happy"), (3.0, 3.8, "sad"),
                    (5.5, 6.4, "sad")]
    assert tl.segments[0].probabilities["sad"] == pytest.approx(0.7)


def test_builder_weights_merged_probabilities_by_time() -> None:
    b = TimelineBuilder(["a", "b"])
    b.add([Event(1.0, 0.0, 1.0, "a", {"a": 0.6, "b": 0.4}, True),
           Event(4.0, 0.0, 4.0, "a", {"a": 0.9, "b": 0.1}, True)])
    (seg,) = b.build(4.0).segments  # an utterance open at the end closes there
    assert (seg.start, seg.end) == (0.0, 4.0)
    assert seg.probabilities["a"] == pytest.approx((0.6 * 1 + 0.9 * 3) / 4)


def test_a_silent_recording_gives_an_empty_timeline(predictor: Predictor,
                                                    tmp_path: Path) -> None:
    path = write_audio(tmp_path / "silent.wav", np.zeros(5 * SR, np.float32), SR)
    for vad in (True, False):
        tl = timeline(path, predictor, vad=vad)
        assert tl == Timeline([], 5.0, LABELS)
        assert tl.label is None and tl.probabilities == {} and tl.speech_duration == 0.0
    quiet = timeline(noise(seconds=3.0, amplitude=1e-4), predictor, sample_rate=SR)
    assert quiet.segments == [] and quiet.duration == 3.0


def test_bad_files_raise_audio_errors(predictor: Predictor, tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(EmptyAudioError):
        timeline(tmp_path / "empty.wav", predictor)
    with sf.SoundFile(str(tmp_path / "no_frames.wav"), "w", SR, 1):
        pass
    with pytest.raises(EmptyAudioError):
        timeline(tmp_path / "no_frames.wav", predictor)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(40)))
    with pytest.raises(AudioDecodeError):
        timeline(tmp_path / "corrupt.wav", predictor)
    (tmp_path / "text.flac").write_text("not audio at all\n" * 50)
    with pytest.raises(AudioDecodeError):
        timeline(tmp_path / "text.flac", predictor)
    with pytest.raises(AudioDecodeError, match="no such file"):
        timeline(tmp_path / "missing.wav", predictor)


def test_bad_arguments(predictor: Predictor) -> None:
    with pytest.raises(ConfigError, match="sample_rate"):
        timeline(np.zeros(SR, np.float32), predictor)
    with pytest.raises(ConfigError):
        timeline(np.zeros(SR, np.float32), predictor, sample_rate=SR, block_seconds=0)
    with pytest.raises(EmptyAudioError):
        timeline(np.zeros(0, np.float32), predictor, sample_rate=SR)


def test_memory_stays_bounded_on_a_ten_minute_file(predictor: Predictor,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    with sf.SoundFile(str(path), "w", SR, 1, subtype="PCM_16") as f:
        for k in range(20):  # 20 x 30 s, a 2 s burst in each, written piece by piece
            block = noise(seconds=30.0, amplitude=0.001, seed=k)
            block[5 * SR:7 * SR] += speechlike(seconds=2.0, seed=k)
            f.write(block)
    decoded = 600 * SR * 4  # float32 bytes of the whole recording: 38.4 MB
    tracemalloc.start()
    try:
        tl = timeline(path, predictor, vad=False, block_seconds=10.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tl.duration == pytest.approx(600.0)
    bursts = {(s.start - 5.0 + TOL) // 30 for s in tl.segments}  # which burst each lies in
    assert bursts == set(range(20))
    for s in tl.segments:
        k = (s.start - 5.0 + TOL) // 30
        assert 30 * k + 5.0 - TOL <= s.start < s.end <= 30 * k + 7.0 + TOL
    assert peak < decoded / 5  # measured about 3.6 MB, under a tenth
