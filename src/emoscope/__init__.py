"""emoscope: speech emotion recognition you can trust.

The public API is re-exported here explicitly; see the README for a tour.
"""

from emoscope.errors import (
    AudioDecodeError,
    AudioError,
    AudioTooLongError,
    ConfigError,
    CorpusError,
    EmoscopeError,
    EmptyAudioError,
    ProtocolError,
    UnknownNameError,
)

__version__ = "0.1.0"

__all__ = [
    "AudioDecodeError",
    "AudioError",
    "AudioTooLongError",
    "ConfigError",
    "CorpusError",
    "EmoscopeError",
    "EmptyAudioError",
    "ProtocolError",
    "UnknownNameError",
    "__version__",
]
