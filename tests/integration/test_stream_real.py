"""The streaming engine and timelines with Silero VAD on real speech (RAVDESS).

Six RAVDESS sentences (each with its own ~1 s of near-silence around the speech) are joined with
1.5 s of digital silence between them. The model is an untrained MLP, so the labels are
arbitrary; what is checked is where and when labels appear.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emoscope.audio.dsp import resample
from emoscope.audio.io import load_audio
from emoscope.audio.speech import speech_segments
from emoscope.inference import Predictor
from emoscope.inference.stream import Event, StreamingPredictor
from emoscope.inference.timeline import TimelineBuilder, timeline
from emoscope.testing import write_audio
from emoscope.testing.bundles import make_bundle

pytestmark = pytest.mark.integration

SR = 16000
GAP = 1.5
FILES = ["Actor_01/03-01-05-02-01-01-01", "Actor_02/03-01-04-02-02-01-02",
         "Actor_03/03-01-03-02-01-02-03", "Actor_04/03-01-01-01-02-01-04",
         "Actor_05/03-01-06-02-01-01-05", "Actor_06/03-01-07-02-02-02-06"]


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    path = make_bundle(tmp_path_factory.mktemp("real") / "b", feature="mfcc-mean", model="mlp")
    return Predictor.from_bundle(path)


@pytest.fixture(scope="module")
def joined(shared_data: Path) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The joined recording at 16 kHz and each sentence's speech (offline Silero), in seconds."""
    parts, speech, t = [], [], 0.0
    for name in FILES:
        y, _ = load_audio(shared_data / "RAVDESS" / "audio_speech_actors_01-24" /
                          f"{name}.flac", sample_rate=SR)
        (a, b), = speech_segments(y, SR, min_silence=0.5)  # one utterance per file
        speech.append((t + a, t + b))
        parts += [y, np.zeros(round(GAP * SR), np.float32)]
        t += (y.shape[0] + round(GAP * SR)) / SR
    return np.concatenate(parts), speech


def _run(sp: StreamingPredictor, x: np.ndarray, rate: int, chunk: int | None) -> list[Event]:
    step = x.shape[-1] if chunk is None else chunk
    events: list[Event] = []
    for i in range(0, x.shape[-1], step):
        events += sp.push(x[..., i:i + step], rate)
    return events + sp.flush()


def _utterances(events: list[Event]) -> list[list[Event]]:
    """Speech events grouped by the no-speech events between them."""
    groups: list[list[Event]] = [[]]
    for e in events:
        if e.speech:
            groups[-1].append(e)
        elif groups[-1]:
            groups.append([])
    return [g for g in groups if g]


def test_one_labelled_stretch_per_utterance(predictor: Predictor, joined) -> None:
    x, speech = joined
    events = _run(StreamingPredictor(predictor), x, SR, 1600)
    groups = _utterances(events)
    assert len(groups) == len(FILES)
    latencies = []
    for group, (a, b) in zip(groups, speech, strict=True):
        assert all(a - 0.1 <= e.start and e.end <= b + 0.6 for e in group)  # + the hangover
        latencies.append(group[0].time - a)
    # first label: min_speech (0.5 s, i.e. 16 frames) after Silero's onset, measured 0.49-0.56 s
    assert max(latencies) <= 0.5 + 0.15, latencies
    pauses = [e for e in events if not e.speech]
    assert len(pauses) == len(FILES) + 1  # the opening silence, then one after each sentence


@pytest.mark.parametrize("chunk", [37, SR // 2], ids=["37", "0.5s"])
def test_chunk_size_does_not_change_the_events(predictor: Predictor, joined,
                                               chunk: int) -> None:
    x, _ = joined
    whole = _run(StreamingPredictor(predictor), x, SR, None)
    assert _run(StreamingPredictor(predictor), x, SR, chunk) == whole


def test_48k_stereo_input(predictor: Predictor, joined) -> None:
    x, speech = joined
    hi = resample(x, SR, 48000).astype(np.float32)
    stereo = np.stack([hi, 0.7 * hi])  # (2, n) at 48 kHz, as the RAVDESS originals
    events = _run(StreamingPredictor(predictor), stereo, 48000, 4800)
    assert _run(StreamingPredictor(predictor), stereo, 48000, None) == events
    groups = _utterances(events)
    assert len(groups) == len(FILES)
    for group, (a, _) in zip(groups, speech, strict=True):
        assert group[0].time - a <= 0.5 + 0.15


def test_timeline_of_the_file_matches_the_stream(predictor: Predictor, joined,
                                                 tmp_path: Path) -> None:
    x, speech = joined
    path = write_audio(tmp_path / "joined.flac", x, SR)
    tl = timeline(path, predictor, hop=1.0, block_seconds=5.0)
    assert tl.duration == pytest.approx(x.shape[0] / SR)
    for s in tl.segments:  # segments lie on the speech, never in the gaps
        assert any(a - 0.1 <= s.start < s.end <= b + 0.1 for a, b in speech), s
    for a, b in speech:  # and cover it
        covered = sum(min(s.end, b) - max(s.start, a) for s in tl.segments
                      if s.end > a and s.start < b)
        assert covered >= 0.9 * (b - a)
    y, sr = load_audio(path)  # the same samples, pushed at once through the live engine
    engine = StreamingPredictor(predictor, hop=1.0)
    builder = TimelineBuilder(predictor.labels)
    builder.add(engine.push(y, sr))
    builder.add(engine.flush())
    assert builder.build(y.shape[0] / sr) == tl
