"""Voice-activity detection: agreement with Silero's reference, real speech, streaming, errors."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emoscope.audio import (
    SileroVAD,
    energy_segments,
    load_audio,
    resample,
    speech_segments,
    trim_silence,
)
from emoscope.audio.vad import default_model_path
from emoscope.errors import AudioError, ConfigError, EmptyAudioError
from emoscope.testing import chirp, noise, speechlike, tone

SR = 16000
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
TESS_FILE = DATA / "TESS/TESS_Toronto_emotional_speech_set_data/OAF_angry/OAF_bar_angry.flac"


@pytest.fixture(scope="module")
def vad() -> SileroVAD:
    return SileroVAD()


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """A real TESS recording at 16 kHz (about 1.6 s)."""
    if not TESS_FILE.is_file():
        pytest.skip(f"{TESS_FILE} is not present (../shared/data)")
    y, _ = load_audio(TESS_FILE, sample_rate=SR)
    return y


@pytest.fixture(scope="module")
def padded(speech) -> np.ndarray:
    """The recording with 1 s of digital silence on each side."""
    silence = np.zeros(SR, dtype=np.float32)
    return np.concatenate([silence, speech, silence])


@pytest.fixture(scope="module")
def reference():
    """Silero's own ONNX wrapper (it needs torch; only the tests import it)."""
    torch = pytest.importorskip("torch")
    utils_vad = pytest.importorskip("silero_vad.utils_vad")
    model = utils_vad.OnnxWrapper(str(default_model_path()), force_onnx_cpu=True)

    def probs(y: np.ndarray) -> np.ndarray:
        return model.audio_forward(torch.from_numpy(y.astype(np.float32)), SR).numpy()[0]

    return model, probs, utils_vad


def synthetic_mix() -> np.ndarray:
    """Tones, sweeps, noise and silence: deterministic, and enough to drive the model around."""
    return np.concatenate([
        np.zeros(3000, np.float32),
        speechlike(seconds=0.8, amplitude=0.4),
        noise(seconds=0.3, amplitude=0.05, seed=5),
        chirp(150, 3000, seconds=0.5, amplitude=0.3),
        tone(220, seconds=0.25, amplitude=0.2),
        np.zeros(777, np.float32),
    ])


# ---------------------------------------------------------------------------------------------
# agreement with the reference implementation


def test_probabilities_match_silero_reference_on_a_synthetic_signal(vad, reference):
    _, ref_probs, _ = reference
    y = synthetic_mix()
    ours = vad.frame_probabilities(y, SR)
    ref = ref_probs(y)
    assert ours.shape == ref.shape == (-(-y.shape[0] // 512),)
    assert ours.dtype == np.float32
    assert np.abs(ours - ref).max() < 1e-4


def test_probabilities_match_silero_reference_on_speech(vad, reference, padded):
    _, ref_probs, _ = reference
    ours = vad.frame_probabilities(padded, SR)
    assert np.abs(ours - ref_probs(padded)).max() < 1e-4
    assert ours.max() > 0.9  # it is speech


def test_segments_match_silero_get_speech_timestamps(reference, padded):
    model, _, utils_vad = reference
    import torch

    ref = utils_vad.get_speech_timestamps(torch.from_numpy(padded), model, sampling_rate=SR)
    ours = speech_segments(padded, SR)
    assert [(s, e) for s, e in ours] == [(r["start"] / SR, r["end"] / SR) for r in ref]


def test_model_runs_without_torch():
    code = (
        "import sys, numpy as np\n"
        "from emoscope.audio import SileroVAD\n"
        "p = SileroVAD().frame_probabilities(np.zeros(4000, np.float32), 16000)\n"
        "assert p.shape == (8,), p.shape\n"
        "print('torch' in sys.modules, 'silero_vad' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------------------------------------
# behaviour


def test_real_speech_with_silent_padding(padded, speech):
    segments = speech_segments(padded, SR)
    assert segments, "no speech found in a real recording"
    start, end = segments[0][0], segments[-1][1]
    speech_end = 1.0 + speech.shape[0] / SR
    assert 0.9 <= start < 1.6
    assert 1.5 < end <= speech_end + 0.1  # before the trailing padding (1 s) ends
    assert all(0 <= s < e <= padded.shape[0] / SR for s, e in segments)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(segments))


@pytest.mark.parametrize("method", ["vad", "energy"])
def test_trim_silence_removes_the_padding(padded, speech, method):
    out = trim_silence(padded, SR, method=method)
    assert out.dtype == np.float32
    assert out.shape[0] <= speech.shape[0] + int(0.1 * SR)
    assert out.shape[0] >= int(0.8 * SR)
    # what was cut is (almost only) the padding: the loud part is intact
    assert np.abs(out).max() == np.abs(speech).max()


def test_trim_silence_keeps_everything_when_nothing_is_found(vad):
    silence = np.zeros(SR, np.float32)
    assert trim_silence(silence, SR, vad=vad).shape == (SR,)
    assert trim_silence(silence, SR, method="energy").shape == (SR,)


def test_energy_trim_on_a_synthetic_tone():
    y = np.concatenate([np.zeros(SR), tone(440, seconds=0.5, amplitude=0.3), np.zeros(SR)])
    out = trim_silence(y.astype(np.float32), SR, method="energy", pad=0.0)
    assert abs(out.shape[0] - SR // 2) <= int(0.04 * SR)


@pytest.mark.parametrize(
    "signal",
    [np.zeros(3 * SR, np.float32), noise(seconds=3.0, amplitude=0.1, seed=1),
     noise(seconds=3.0, amplitude=0.5, seed=2), noise(seconds=3.0, amplitude=0.001, seed=3)],
    ids=["silence", "noise-20dB", "noise-6dB", "noise-60dB"],
)
def test_no_speech_in_silence_or_white_noise(vad, signal):
    assert vad.frame_probabilities(signal, SR).max() < 0.5
    assert speech_segments(signal, SR, vad=vad) == []


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
def test_other_rates_are_resampled(vad, padded, sr):
    y = resample(padded, SR, sr)
    probs = vad.frame_probabilities(y, sr)
    assert probs.shape == (-(-round(y.shape[0] * SR / sr) // 512),)
    segments = speech_segments(y, sr, vad=vad)
    ref = speech_segments(padded, SR, vad=vad)
    assert len(segments) == len(ref)
    assert abs(segments[0][0] - ref[0][0]) <= 0.07 and abs(segments[-1][1] - ref[-1][1]) <= 0.07


@pytest.mark.parametrize("sr", [SR, 44100])
@pytest.mark.parametrize("seed", [0, 1])
def test_streaming_matches_one_shot(vad, sr, seed):
    y = synthetic_mix()
    y = resample(y, SR, sr) if sr != SR else y
    expected = vad.frame_probabilities(y, sr)
    stream = vad.stream(sr)
    rng = np.random.default_rng(seed)
    outs, i = [], 0
    while i < y.shape[0]:
        k = int(rng.integers(0, 1500))  # includes empty chunks and chunks shorter than a frame
        outs.append(stream(y[i : i + k]))
        i += k
    outs.append(stream(np.zeros(0, np.float32), last=True))
    got = np.concatenate(outs)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-4
    assert stream.frames == 0  # last=True resets the stream


def test_streaming_frame_count_and_reset(vad):
    stream = vad.stream()
    assert stream(np.zeros(511, np.float32)).shape == (0,)
    assert stream(np.zeros(1, np.float32)).shape == (1,)
    assert stream(np.zeros(1024, np.float32)).shape == (2,)
    assert stream.frames == 3
    stream.reset()
    y = synthetic_mix()
    a = stream(y)
    stream.reset()
    np.testing.assert_array_equal(stream(y), a)


def test_instances_share_one_session():
    assert SileroVAD().session is SileroVAD().session
    opts = SileroVAD().session.get_session_options()
    assert opts.intra_op_num_threads == 1


def test_hysteresis_bridges_short_pauses():
    # two bursts 200 ms apart: one segment when min_silence=0.3, two when min_silence=0.05
    burst = tone(440, seconds=0.5, amplitude=0.3)
    gap = np.zeros(int(0.2 * SR), np.float32)
    y = np.concatenate([np.zeros(SR // 2, np.float32), burst, gap, burst,
                        np.zeros(SR // 2, np.float32)])
    one = energy_segments(y, SR, min_silence=0.3, pad=0.0)
    assert len(one) == 1
    assert one[0][0] == pytest.approx(0.5, abs=0.033) and one[0][1] == pytest.approx(1.7, abs=0.033)
    two = energy_segments(y, SR, min_silence=0.05, pad=0.0)
    assert len(two) == 2
    assert two[0][1] == pytest.approx(1.0, abs=0.033) and two[1][0] == pytest.approx(1.2, abs=0.033)
    padded = energy_segments(y, SR, min_silence=0.05, pad=0.03)
    assert padded[0][0] == pytest.approx(two[0][0] - 0.03, abs=1e-3)


def test_energy_segments_drop_short_blips():
    y = np.zeros(2 * SR, np.float32)
    y[SR : SR + 800] = 0.5  # a 50 ms click
    assert energy_segments(y, SR, min_speech=0.25) == []
    assert len(energy_segments(y, SR, min_speech=0.0)) == 1
    assert energy_segments(np.zeros(SR, np.float32), SR) == []


# ---------------------------------------------------------------------------------------------
# bad input


BAD = [
    (np.zeros(0, np.float32), EmptyAudioError),
    (np.zeros((2, SR), np.float32), AudioError),
    (np.zeros((SR, 1), np.float32), AudioError),
    (np.array([0.0, np.nan] * 400, np.float32), AudioError),
    (np.zeros(SR, np.int16), AudioError),
]


@pytest.mark.parametrize(("y", "error"), BAD)
def test_bad_waveforms(vad, y, error):
    with pytest.raises(error):
        vad.frame_probabilities(y, SR)
    with pytest.raises(error):
        speech_segments(y, SR, vad=vad)
    with pytest.raises(error):
        energy_segments(y, SR)
    with pytest.raises(error):
        trim_silence(y, SR, method="energy")


@pytest.mark.parametrize("sr", [0, -16000, 1.5, None])
def test_bad_sample_rates(vad, sr):
    y = np.zeros(SR, np.float32)
    with pytest.raises(AudioError):
        vad.frame_probabilities(y, sr)
    with pytest.raises(AudioError):
        speech_segments(y, sr, vad=vad)
    with pytest.raises(AudioError):
        vad.stream(sr)


def test_bad_stream_chunks(vad):
    stream = vad.stream()
    with pytest.raises(AudioError):
        stream(np.zeros((2, 100), np.float32))
    with pytest.raises(AudioError):
        stream(np.array([np.inf], np.float32))


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0.0}, {"threshold": 1.0}, {"threshold": 0.5, "neg_threshold": 0.6},
     {"min_speech": -1.0}, {"min_silence": float("nan")}, {"pad": -0.1}],
)
def test_bad_segment_options(vad, kwargs):
    with pytest.raises(ConfigError):
        speech_segments(np.zeros(SR, np.float32), SR, vad=vad, **kwargs)


def test_bad_trim_and_energy_options():
    y = tone(seconds=0.5)
    with pytest.raises(ConfigError):
        trim_silence(y, SR, method="spectral")
    with pytest.raises(ConfigError):
        trim_silence(y, SR, method="energy", top_db=0.0)
    with pytest.raises(ConfigError):
        energy_segments(y, SR, frame=1e-6)


def test_missing_model_file(tmp_path):
    with pytest.raises(ConfigError):
        SileroVAD(tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ConfigError):
        SileroVAD(bad).frame_probabilities(np.zeros(SR, np.float32), SR)


@pytest.mark.parametrize("threshold", [0.005, 0.1, 0.9])
def test_extreme_thresholds_are_accepted(vad, padded, threshold):
    segments = speech_segments(padded, SR, threshold=threshold, vad=vad)
    assert all(0 <= s < e <= padded.shape[0] / SR for s, e in segments)
