"""Decoding: every format, channels, rates, blocks, and bad files giving our own errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emoscope.audio import (
    StreamResampler,
    audio_info,
    iter_blocks,
    load_audio,
    resample,
    sniff_format,
    to_mono,
)
from emoscope.errors import (
    AudioDecodeError,
    AudioError,
    AudioTooLongError,
    ConfigError,
    EmptyAudioError,
)
from emoscope.testing import chirp, tone, write_audio
from emoscope.testing.media import write_video

SR = 16000


def dominant_freq(y: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[spec.argmax()])


@pytest.mark.parametrize(
    ("subtype", "tol"),
    [("PCM_U8", 1e-2), ("PCM_16", 1e-4), ("PCM_24", 1e-6), ("PCM_32", 1e-8), ("FLOAT", 0),
     ("DOUBLE", 0)],
)
def test_wav_sample_formats_round_trip(tmp_path, subtype, tol):
    y = tone(440, seconds=0.5, amplitude=0.5)
    p = write_audio(tmp_path / f"x_{subtype}.wav", y, SR, subtype=subtype)
    z, sr = load_audio(p)
    assert sr == SR and z.dtype == np.float32 and z.shape == y.shape
    assert np.abs(z - y).max() <= tol + 1e-7


@pytest.mark.parametrize(
    ("name", "fmt", "subtype", "tol"),
    [("x.flac", None, None, 1e-4), ("x.aiff", None, None, 1e-4), ("x.ogg", None, None, None),
     ("x.opus", None, None, None), ("x.mp3", None, None, None),
     ("aiff_inside.wav", "AIFF", None, 1e-4)],
)
def test_compressed_and_other_formats(tmp_path, name, fmt, subtype, tol):
    y = tone(440, seconds=1.0, amplitude=0.5)
    p = write_audio(tmp_path / name, y, SR, format=fmt, subtype=subtype)
    z, sr = load_audio(p, sample_rate=SR)
    assert sr == SR
    assert abs(len(z) - len(y)) <= 0.05 * SR  # codecs may pad a little
    assert dominant_freq(z[: SR // 2], SR) == pytest.approx(440, abs=5)
    if tol is not None:
        assert np.abs(z - y).max() <= tol


def test_aiff_behind_wav_name_is_detected(tmp_path):
    p = write_audio(tmp_path / "YAF_germ_angry.wav", tone(), SR, format="AIFF")
    assert sniff_format(p) == "aiff"
    assert audio_info(p).format == "aiff"


@pytest.mark.parametrize("ext", [".mp4", ".avi", ".flv", ".mkv"])
def test_audio_track_of_video(tmp_path, ext):
    y = tone(440, seconds=1.0, amplitude=0.5)
    p = write_video(tmp_path / f"clip{ext}", y, SR)
    info = audio_info(p)
    assert info.backend == "av" and info.channels == 1
    z, sr = load_audio(p, sample_rate=SR)
    assert sr == SR and abs(len(z) - SR) < 0.15 * SR
    assert dominant_freq(z[2000:10000], SR) == pytest.approx(440, abs=5)


def test_video_without_audio_is_reported(tmp_path):
    p = write_video(tmp_path / "silent.mp4", None)
    with pytest.raises(AudioDecodeError, match="no audio stream"):
        load_audio(p)


def test_stereo_mixdown_and_keep_channels(tmp_path):
    left, right = tone(440, amplitude=0.4), tone(440, amplitude=0.2)
    p = write_audio(tmp_path / "st.wav", np.stack([left, right]), SR, subtype="FLOAT")
    z, _ = load_audio(p)
    np.testing.assert_allclose(z, (left + right) / 2, atol=1e-6)
    zz, _ = load_audio(p, mono=False)
    assert zz.shape == (2, len(left))


@pytest.mark.parametrize(("orig", "target"), [(44100, 16000), (8000, 16000), (96000, 16000),
                                              (24414, 16000), (16000, 16000)])
def test_resampling_keeps_frequency_and_length(tmp_path, orig, target):
    y = tone(440, seconds=1.0, sr=orig)
    p = write_audio(tmp_path / "r.wav", y, orig, subtype="FLOAT")
    z, sr = load_audio(p, sample_rate=target)
    assert sr == target and abs(len(z) - target) <= 1
    assert dominant_freq(z, target) == pytest.approx(440, abs=2)


def test_offset_and_duration(tmp_path):
    p = write_audio(tmp_path / "c.wav", chirp(seconds=2.0), SR, subtype="FLOAT")
    z, _ = load_audio(p, offset=0.5, duration=0.25)
    full, _ = load_audio(p)
    np.testing.assert_array_equal(z, full[8000:12000])


@pytest.mark.parametrize("target", [None, 8000, 22050])
def test_blocks_concatenate_to_whole_file(tmp_path, target):
    y = chirp(seconds=3.0)
    p = write_audio(tmp_path / "long.flac", y, SR)
    blocks = list(iter_blocks(p, block_seconds=0.37, sample_rate=target))
    assert len(blocks) > 5
    whole, _ = load_audio(p, sample_rate=target)
    joined = np.concatenate(blocks)
    assert abs(len(joined) - len(whole)) <= 2
    n = min(len(joined), len(whole)) - 200
    np.testing.assert_allclose(joined[200:n], whole[200:n], atol=2e-3)


def test_blocks_from_video(tmp_path):
    p = write_video(tmp_path / "v.mp4", tone(seconds=2.0), SR)
    joined = np.concatenate(list(iter_blocks(p, block_seconds=0.5, sample_rate=SR)))
    assert abs(len(joined) - 2 * SR) < 0.1 * SR


def test_bad_options_raise_our_errors(tmp_path):
    p = write_audio(tmp_path / "a.wav", tone(), SR)
    for kwargs in ({"offset": -0.5}, {"duration": -1.0}, {"max_duration": 0}):
        with pytest.raises(ConfigError):
            load_audio(p, **kwargs)
    with pytest.raises(ConfigError):
        list(iter_blocks(p, block_seconds=0))
    with pytest.raises(AudioError):
        StreamResampler(0, 16000)


def test_to_mono_and_resample_reject_bad_shapes():
    with pytest.raises(AudioError):
        to_mono(np.zeros((2, 2, 2), np.float32))
    with pytest.raises(AudioError):  # (n, channels) is refused, not averaged over time
        to_mono(np.zeros((100, 2), np.float32))
    with pytest.raises(AudioError):
        resample(np.zeros(10, np.float32), 0, 16000)


class TestBadFiles:
    def test_missing(self, tmp_path):
        with pytest.raises(AudioDecodeError, match="no such file") as e:
            load_audio(tmp_path / "nope.wav")
        assert e.value.path.endswith("nope.wav")

    def test_empty_file(self, tmp_path):
        p = tmp_path / "empty.wav"
        p.write_bytes(b"")
        with pytest.raises(EmptyAudioError, match=r"empty\.wav"):
            load_audio(p)

    def test_text_file(self, tmp_path):
        p = tmp_path / "notes.wav"
        p.write_text("this is not audio at all, just text\n" * 10)
        with pytest.raises(AudioDecodeError, match=r"notes\.wav: not a readable"):
            load_audio(p)

    def test_random_bytes(self, tmp_path):
        p = tmp_path / "noise.flac"
        p.write_bytes(np.random.default_rng(0).bytes(5000))
        with pytest.raises(AudioDecodeError):
            load_audio(p)

    def test_header_only_wav_has_no_samples(self, tmp_path):
        p = tmp_path / "hdr.wav"
        sf.write(p, np.zeros(0, np.float32), SR)
        with pytest.raises(EmptyAudioError):
            load_audio(p)

    def test_nan_samples(self, tmp_path):
        y = tone()
        y[100] = np.nan
        p = write_audio(tmp_path / "nan.wav", y, SR, subtype="FLOAT")
        with pytest.raises(AudioDecodeError, match="NaN"):
            load_audio(p)

    def test_too_long(self, tmp_path):
        p = write_audio(tmp_path / "long.wav", tone(seconds=3.0), SR)
        with pytest.raises(AudioTooLongError, match=r"3\.0 s"):
            load_audio(p, max_duration=2.0)

    def test_directory(self, tmp_path):
        with pytest.raises(AudioDecodeError, match="not a regular file"):
            audio_info(tmp_path)

    def test_every_audio_error_is_an_emoscope_error(self):
        from emoscope.errors import EmoscopeError

        assert issubclass(AudioDecodeError, EmoscopeError)
        assert issubclass(EmptyAudioError, AudioError)


def _flac_without_length(tmp_path):
    """A FLAC whose STREAMINFO says 'total samples unknown' (0), as when written to a pipe."""
    y = chirp(100.0, 2000.0, seconds=1.5, sr=16000) * 0.3
    path = tmp_path / "piped.flac"
    sf.write(path, y, 16000, subtype="PCM_16")
    b = bytearray(path.read_bytes())
    assert b[:4] == b"fLaC"
    v = int.from_bytes(b[18:26], "big")  # sample rate, channels, bits, 36-bit total
    b[18:26] = (v & ~((1 << 36) - 1)).to_bytes(8, "big")
    path.write_bytes(bytes(b))
    with sf.SoundFile(path) as f:
        assert f.frames > 2**62  # libsndfile's "unknown"
    return path, y


def test_a_header_without_length_still_decodes(tmp_path):
    path, y = _flac_without_length(tmp_path)
    info = audio_info(path)
    assert info.duration < 10 and info.sample_rate == 16000
    got, sr = load_audio(path)
    assert sr == 16000 and got.shape == y.shape
    np.testing.assert_allclose(got, y, atol=1e-4)
    blocks = np.concatenate(list(iter_blocks(path, block_seconds=0.4)))
    np.testing.assert_allclose(blocks, got, atol=1e-6)
    assert load_audio(path, max_duration=5.0)[0].shape == y.shape
    with pytest.raises(AudioTooLongError):
        load_audio(path, max_duration=1.0)
