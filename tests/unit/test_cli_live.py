"""`emoscope live`: a file through the streaming path, the microphone (a fake sounddevice),
the terminal display, Ctrl-C, and one-line errors.

The speech-like test signal is not speech to Silero VAD, so most runs use ``--energy``.
"""

from __future__ import annotations

import _thread
import io
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from emoscope.cli import main
from emoscope.errors import EmoscopeError
from emoscope.inference import Predictor, live
from emoscope.inference.live import run_live
from emoscope.testing import speechlike, write_audio
from emoscope.testing.bundles import make_bundle

RATE = 22050  # not the model's rate: the engine resamples


def _signal(sr: int = RATE) -> np.ndarray:
    z = np.zeros(sr, np.float32)
    return np.concatenate([z, speechlike(seconds=2.0, sr=sr, seed=3), z])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("live") / "b", feature="mfcc-mean", model="mlp")


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    y = _signal()
    return write_audio(tmp_path_factory.mktemp("audio") / "talk.wav", np.stack([y, 0.8 * y]),
                       RATE)


def test_live_from_file_prints_one_line_per_event(bundle: Path, recording: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["live", "--from-file", str(recording), "--fast", "--bundle", str(bundle),
               "--energy"])
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.strip().splitlines()
    assert "silence" in lines[0] and "since 0.00 s" in lines[0]
    speech = [line for line in lines if "window" in line]
    assert len(speech) >= 3
    assert all(any(f"{lab} 0." in line for lab in ("angry", "happy", "neutral", "sad"))
               for line in speech)
    assert float(speech[0].split()[0]) == pytest.approx(1.0 + 0.5, abs=0.07)
    assert any(line.startswith("done: 4.0 s of audio, 1 speech segment") for line in lines)
    assert any(line.startswith("overall: ") for line in lines)


def test_live_with_silero_vad_runs_to_the_end(bundle: Path, recording: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "--from-file", str(recording), "--fast", "--bundle", str(bundle)]) == 0
    assert "done: 4.0 s of audio" in capsys.readouterr().out


def test_from_file_plays_in_real_time(bundle: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    short = write_audio(tmp_path / "short.wav", speechlike(seconds=1.0, sr=RATE), RATE)
    start = time.monotonic()
    assert main(["live", "--from-file", str(short), "--bundle", str(bundle), "--energy"]) == 0
    assert time.monotonic() - start >= 0.95
    assert "done: 1.0 s of audio" in capsys.readouterr().out


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:"), err
    return err


def test_a_missing_file_is_a_one_line_error(bundle: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["live", "--from-file", str(tmp_path / "nope.wav"), "--fast", "--bundle",
               str(bundle)])
    assert rc == 1
    assert "no such file" in _one_line_error(capsys)


def test_fast_needs_a_file(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "--fast", "--bundle", str(bundle)]) == 1
    assert "--from-file" in _one_line_error(capsys)


def test_missing_portaudio_is_a_one_line_error(bundle: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails as if not installed
    assert main(["live", "--bundle", str(bundle)]) == 1
    err = _one_line_error(capsys)
    assert "libportaudio2" in err and "--from-file" in err


def test_ctrl_c_ends_cleanly_with_a_summary(bundle: Path, recording: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    real = live._file_blocks

    def interrupted(path, block_seconds, *, realtime):
        for k, item in enumerate(real(path, block_seconds, realtime=False)):
            if k == 25:  # 2.5 s in
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(live, "_file_blocks", interrupted)
    rc = main(["live", "--from-file", str(recording), "--bundle", str(bundle), "--energy"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "stopped: 2.5 s of audio, 1 speech segment" in out


def test_terminal_gets_the_live_display(bundle: Path, recording: Path) -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100)
    result = run_live(Predictor.from_bundle(bundle), source=recording, fast=True, vad=False,
                      console=console)
    text = buf.getvalue()
    assert "emoscope live" in text and "emotion:" in text and "█" in text
    assert "done: 4.0 s of audio" in text
    assert result.events >= 4 and not result.interrupted


def _fake_sounddevice(signal: np.ndarray, rate: int, *, fail: bool = False) -> types.ModuleType:
    """A stand-in for sounddevice whose input stream plays ``signal``, then presses Ctrl-C."""
    sd = types.ModuleType("sounddevice")

    class PortAudioError(Exception):
        pass

    class InputStream:
        def __init__(self, *, device, channels, samplerate, dtype, blocksize, callback):
            if fail:
                raise PortAudioError("Error querying device 7\nmore detail")
            assert (channels, samplerate, dtype) == (1, rate, "float32")
            self.blocksize, self.callback = blocksize, callback
            self.thread = threading.Thread(target=self._play, daemon=True)

        def _play(self) -> None:
            for i in range(0, signal.shape[0], self.blocksize):
                block = signal[i:i + self.blocksize, None]  # (frames, channels)
                self.callback(block, block.shape[0], None, None)
                time.sleep(0.002)
            mic = self.callback.__self__  # wait until the main thread has taken every block
            deadline = time.monotonic() + 30
            while not mic._queue.empty() and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)
            _thread.interrupt_main()  # the user presses Ctrl-C

        def start(self) -> None:
            self.thread.start()

        def stop(self) -> None:
            pass

        def close(self) -> None:
            pass

    sd.PortAudioError = PortAudioError
    sd.InputStream = InputStream
    sd.query_devices = lambda device, kind: {"default_samplerate": float(rate)}
    return sd


def test_microphone_input_through_a_fake_sounddevice(bundle: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    sd = _fake_sounddevice(_signal(44100), 44100)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    buf = io.StringIO()
    result = run_live(Predictor.from_bundle(bundle), vad=False, console=Console(file=buf))
    assert result.interrupted and result.dropped == 0.0
    assert result.timeline.duration > 3.5  # all of it, give or take the block in hand
    (a, b) = (result.timeline.segments[0].start, result.timeline.segments[-1].end)
    assert a == pytest.approx(1.0, abs=0.07) and b == pytest.approx(3.0, abs=0.07)
    assert "stopped:" in buf.getvalue()


def test_a_device_that_cannot_be_opened(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice",
                        _fake_sounddevice(_signal(), RATE, fail=True))
    with pytest.raises(EmoscopeError, match="cannot open the microphone 7: Error querying "
                                            "device 7; pick one with --device"):
        run_live(Predictor.from_bundle(bundle), device=7, console=Console(file=io.StringIO()))
