"""The streaming engine: chunk-size invariance, latency, bounded memory, silence handling.

The synthetic ``speechlike`` signal is not speech to Silero VAD (it fires for a few frames at
its onset and then stays below 0.5), so most tests use the energy detector (``vad=False``);
Silero on real speech is tested in tests/integration/test_stream_real.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from emoscope.audio.dsp import resample
from emoscope.errors import AudioError, ConfigError
from emoscope.inference import Predictor
from emoscope.inference.stream import FRAME_SECONDS, SILENCE_LABEL, Event, StreamingPredictor
from emoscope.testing import noise, speechlike
from emoscope.testing.bundles import make_bundle

SR = 16000


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    """A small untrained MLP on MFCC statistics: fast, and any window length works."""
    path = make_bundle(tmp_path_factory.mktemp("stream") / "b", feature="mfcc-mean", model="mlp")
    return Predictor.from_bundle(path)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SR), np.float32)


def _recording() -> np.ndarray:
    """1 s silence, 2.5 s speech-like, 1 s silence, 1.2 s speech-like, 0.3 s silence."""
    return np.concatenate([_silence(1.0), speechlike(seconds=2.5, seed=1), _silence(1.0),
                           speechlike(seconds=1.2, f0=120.0, seed=2), _silence(0.3)])


def _run(sp: StreamingPredictor, x: np.ndarray, rate: int, chunk: int | None) -> list[Event]:
    step = x.shape[-1] if chunk is None else chunk
    events: list[Event] = []
    for i in range(0, x.shape[-1], step):
        events += sp.push(x[..., i:i + step], rate)
    return events + sp.flush()


@pytest.fixture(scope="module")
def reference(predictor: Predictor) -> list[Event]:
    return _run(StreamingPredictor(predictor, vad=False), _recording(), SR, None)


def test_reference_events_make_sense(reference: list[Event]) -> None:
    speech = [e for e in reference if e.speech]
    silences = [e for e in reference if not e.speech]
    assert len(speech) >= 6
    # one pause report at the start, one after each utterance (the last one closed by flush)
    assert [round(e.start, 2) for e in silences] == pytest.approx([0.0, 3.5, 5.7], abs=0.05)
    times = [e.time for e in reference]
    assert times == sorted(times)
    for e in speech:
        assert e.end == e.time and 0 < e.end - e.start <= 3.0 + 1e-9
        assert sum(e.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert e.label == max(e.probabilities, key=e.probabilities.__getitem__)


@pytest.mark.parametrize("chunk", [1, 37, SR // 2, None], ids=["1", "37", "0.5s", "whole"])
def test_same_events_whatever_the_chunk_size(predictor: Predictor, reference: list[Event],
                                             chunk: int | None) -> None:
    events = _run(StreamingPredictor(predictor, vad=False), _recording(), SR, chunk)
    assert events == reference  # exact: times, windows, labels and probabilities


def test_same_events_whatever_the_chunk_size_with_silero(predictor: Predictor) -> None:
    x = _recording() + noise(seconds=6.0, amplitude=0.002, seed=3)
    runs = [_run(StreamingPredictor(predictor, vad=True), x, SR, c) for c in (37, 4000, None)]
    assert runs[0] == runs[1] == runs[2]
    assert any(e.speech for e in runs[0]) and any(not e.speech for e in runs[0])


def test_same_events_whatever_the_chunk_size_at_44k_stereo(predictor: Predictor) -> None:
    mono = resample(_recording(), SR, 44100).astype(np.float32)
    x = np.stack([mono, 0.5 * mono])  # (2, n)
    runs = [_run(StreamingPredictor(predictor, vad=False), x, 44100, c)
            for c in (37, 4410, None)]
    assert runs[0] == runs[1] == runs[2]


def test_multichannel_44k_input_agrees_with_16k_mono(predictor: Predictor,
                                                     reference: list[Event]) -> None:
    mono = resample(_recording(), SR, 44100).astype(np.float32)
    events = _run(StreamingPredictor(predictor, vad=False), np.stack([mono, mono]), 44100, 4410)
    speech = [e for e in events if e.speech]
    ref_speech = [e for e in reference if e.speech]
    assert abs(len(speech) - len(ref_speech)) <= 1
    assert speech[0].time == pytest.approx(ref_speech[0].time, abs=2 * FRAME_SECONDS)
    assert [e.label for e in speech[:3]] == [e.label for e in ref_speech[:3]]
    pauses = [e.start for e in events if not e.speech]
    assert pauses == pytest.approx([e.start for e in reference if not e.speech],
                                   abs=2 * FRAME_SECONDS)


@pytest.mark.parametrize(("min_speech", "hop"), [(0.5, 0.5), (0.25, 0.3), (1.0, 1.0)])
def test_latency_is_bounded(predictor: Predictor, min_speech: float, hop: float) -> None:
    onset = 2.0
    x = np.concatenate([_silence(onset), speechlike(seconds=3.0, seed=4), _silence(1.0)])
    sp = StreamingPredictor(predictor, vad=False, min_speech=min_speech, hop=hop)
    speech = [e for e in _run(sp, x, SR, 1600) if e.speech]
    # the first label: min_speech after the first loud frame (one frame of onset slack)
    assert onset + min_speech <= speech[0].time <= onset + min_speech + 2 * FRAME_SECONDS
    gaps = np.diff([e.time for e in speech])
    assert gaps.max() <= hop + 1e-9  # then an update at least every hop
    assert gaps.min() > hop - FRAME_SECONDS - 1e-9


def test_buffer_stays_bounded_on_a_long_stream(predictor: Predictor) -> None:
    sp = StreamingPredictor(predictor, vad=False, window=2.0)
    burst = np.concatenate([speechlike(seconds=1.0, seed=5), _silence(19.0)])  # 20 s
    held, n_events = [], 0
    for _ in range(9):  # three minutes, pushed in one-second chunks
        for i in range(0, burst.shape[0], SR):
            n_events += len(sp.push(burst[i:i + SR], SR))
            held.append(sp.held_samples)
    assert max(held) <= (2.0 + 2.5) * SR + 512  # the ring buffer plus one partial frame
    assert max(held[100:]) == max(held[:10])  # the same after 10 s as after 3 minutes
    assert sp.time == pytest.approx(180.0, abs=FRAME_SECONDS)
    assert n_events >= 18  # a label or two and a pause per burst


def test_silence_then_speech(predictor: Predictor) -> None:
    x = np.concatenate([_silence(10.0), speechlike(seconds=2.0, seed=6), _silence(0.2)])
    sp = StreamingPredictor(predictor, vad=False, min_silence=0.5)
    events = _run(sp, x, SR, 3200)
    first = events[0]
    assert not first.speech and first.label == SILENCE_LABEL and first.probabilities == {}
    assert first.start == 0.0 and first.time == pytest.approx(0.512)
    assert sum(not e.speech for e in events[:-1]) == 1  # one report for 10 s of silence
    assert all(e.speech for e in events[1:-1])
    assert events[1].time == pytest.approx(10.0 + 0.512, abs=2 * FRAME_SECONDS)
    last = events[-1]  # flush closes the open utterance where its sound stopped
    assert not last.speech and last.start == pytest.approx(12.0, abs=2 * FRAME_SECONDS)
    assert last.time == pytest.approx(x.shape[0] / SR)


def test_short_blip_gives_no_label_and_does_not_split_the_pause(predictor: Predictor) -> None:
    x = np.concatenate([_silence(2.0), speechlike(seconds=0.25, seed=7), _silence(3.0)])
    events = _run(StreamingPredictor(predictor, vad=False, min_speech=0.5), x, SR, None)
    assert [(e.speech, e.start) for e in events] == [(False, 0.0)]


def test_smoothing_is_a_moving_average_reset_per_utterance(predictor: Predictor) -> None:
    x = _recording()
    events = _run(StreamingPredictor(predictor, vad=False, smooth=2), x, SR, None)
    speech = [e for e in events if e.speech]

    def raw(e: Event) -> np.ndarray:
        y = x[round(e.start * SR):round(e.end * SR)]
        return predictor.predict_proba([y], SR)[0].astype(np.float64)

    def probs(e: Event) -> np.ndarray:
        return np.array([e.probabilities[lab] for lab in predictor.labels])

    np.testing.assert_allclose(probs(speech[0]), raw(speech[0]), atol=1e-6)
    np.testing.assert_allclose(probs(speech[1]), (raw(speech[0]) + raw(speech[1])) / 2,
                               atol=1e-6)
    np.testing.assert_allclose(probs(speech[2]), (raw(speech[1]) + raw(speech[2])) / 2,
                               atol=1e-6)
    second = next(e for e in speech if e.start > 4.0)  # first window of the next utterance
    np.testing.assert_allclose(probs(second), raw(second), atol=1e-6)


def test_flush_resets_for_a_new_stream(predictor: Predictor, reference: list[Event]) -> None:
    sp = StreamingPredictor(predictor, vad=False)
    assert _run(sp, _recording(), SR, 8000) == reference
    assert sp.time == 0.0
    assert _run(sp, _recording(), SR, 8000) == reference
    assert sp.flush() == [] and sp.push(np.zeros(0, np.float32), SR) == []


@pytest.mark.parametrize("chunk", [
    np.zeros(10, np.int16), np.array([0.0, np.nan], np.float32), np.zeros((1, 2, 3)),
    np.zeros((100, 2), np.float32)])
def test_bad_chunks_raise_audio_error(predictor: Predictor, chunk: np.ndarray) -> None:
    with pytest.raises(AudioError):
        StreamingPredictor(predictor, vad=False).push(chunk, SR)


def test_rate_or_channels_changing_mid_stream_is_refused(predictor: Predictor) -> None:
    sp = StreamingPredictor(predictor, vad=False)
    sp.push(np.zeros(100, np.float32), SR)
    with pytest.raises(AudioError, match="changed"):
        sp.push(np.zeros(100, np.float32), 44100)
    with pytest.raises(AudioError, match="changed"):
        sp.push(np.zeros((2, 100), np.float32), SR)
    with pytest.raises(AudioError, match="sample rate"):
        StreamingPredictor(predictor, vad=False).push(np.zeros(10, np.float32), 0)


@pytest.mark.parametrize("options", [
    {"window": 0.0}, {"hop": -1.0}, {"min_speech": 4.0}, {"smooth": 0}, {"smooth": 1.5},
    {"threshold": 1.0}, {"min_silence": -0.1}])
def test_bad_options_raise_config_error(predictor: Predictor, options: dict) -> None:
    with pytest.raises(ConfigError):
        StreamingPredictor(predictor, vad=False, **options)
