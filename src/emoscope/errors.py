"""One exception tree for everything emoscope raises on purpose.

Every error a user can cause (a bad file, a wrong corpus folder, an unknown name, a protocol that
cannot be built) is an :class:`EmoscopeError`, so a caller can catch one type and a command-line
tool can print a one-line message instead of a traceback.

::

    EmoscopeError
    ├── MediaError            a file or waveform that cannot be used (``path``, ``reason``)
    │   ├── AudioError            the sound
    │   │   ├── AudioDecodeError  unreadable, corrupt, truncated, not audio, no audio stream
    │   │   ├── EmptyAudioError   zero samples
    │   │   ├── SilentAudioError  no signal to analyse (digital silence or far below speech)
    │   │   ├── TooShortAudioError shorter than the feature's analysis window
    │   │   └── AudioTooLongError longer than the caller allows
    │   └── VideoError            the picture
    │       ├── VideoDecodeError  unreadable, corrupt, not a video, no video stream, no frames
    │       └── NoFaceError       no face detected in any sampled frame (``fallback: skip``)
    ├── CorpusError           a corpus folder or manifest that does not match what was asked for
    ├── ProtocolError         folds that cannot be built (unknown speakers, too few classes, ...)
    └── ConfigError           bad options, unknown registered names
        ├── UnknownNameError
        └── BundleError       a model bundle that is missing, corrupt or of another version
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "AudioDecodeError",
    "AudioError",
    "AudioTooLongError",
    "BundleError",
    "ConfigError",
    "CorpusError",
    "EmoscopeError",
    "EmptyAudioError",
    "MediaError",
    "NoFaceError",
    "ProtocolError",
    "SilentAudioError",
    "TooShortAudioError",
    "UnknownNameError",
    "VideoDecodeError",
    "VideoError",
]


class EmoscopeError(Exception):
    """Base class of every error emoscope raises on purpose."""


class MediaError(EmoscopeError):
    """A file or waveform that cannot be used (its sound or its picture).

    Parameters
    ----------
    reason : str
        What is wrong, in a few words a person understands ("not an audio file", "empty",
        "no face found in 20 frames").
    path : str or PathLike, optional
        The file concerned; it leads the message when given.
    """

    def __init__(self, reason: str, *, path: str | PathLike[str] | None = None) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class AudioError(MediaError):
    """A file or waveform whose sound cannot be used (see :class:`MediaError`)."""


class AudioDecodeError(AudioError):
    """The file is unreadable, corrupt, truncated, not audio, or has no audio stream."""


class EmptyAudioError(AudioError):
    """The file decodes to zero samples."""


class SilentAudioError(AudioError):
    """The audio holds no signal to analyse (digital silence, or far below speech level)."""


class TooShortAudioError(AudioError):
    """The audio is shorter than the feature's analysis window or minimum length."""


class AudioTooLongError(AudioError):
    """The audio is longer than the caller allows."""


# ---- video (audio-visual emotion recognition) -------------------------------------------


class VideoError(MediaError):
    """A video file whose picture cannot be used: the picture side of :class:`AudioError`."""


class VideoDecodeError(VideoError):
    """The file is unreadable, corrupt, not a video, has no video stream or no frames."""


class NoFaceError(VideoError):
    """No face was detected in any sampled frame (and the fallback is ``"skip"``)."""


# ------------------------------------------------------------------------------------------


class CorpusError(EmoscopeError):
    """A corpus folder or manifest does not match the layout that was asked for."""


class ProtocolError(EmoscopeError):
    """Evaluation folds cannot be built from the given manifest and options."""


class ConfigError(EmoscopeError):
    """Bad options or configuration values."""


class UnknownNameError(ConfigError):
    """A name that is not registered (corpus, feature, model, protocol)."""


class BundleError(ConfigError):
    """A model bundle that is missing, corrupt, incomplete or of an incompatible version."""
