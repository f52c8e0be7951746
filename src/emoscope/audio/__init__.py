"""Audio in: decode any file, mix to mono, resample, normalise loudness, find speech, cut, denoise."""

from emoscope.audio.dsp import StreamResampler, resample, to_mono
from emoscope.audio.formats import (
    AUDIO_EXTENSIONS,
    MEDIA_EXTENSIONS,
    VIDEO_EXTENSIONS,
    is_media_file,
    sniff_format,
)
from emoscope.audio.io import AudioInfo, audio_info, iter_blocks, load_audio

__all__ = [
    "AUDIO_EXTENSIONS",
    "MEDIA_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "AudioInfo",
    "StreamResampler",
    "audio_info",
    "is_media_file",
    "iter_blocks",
    "load_audio",
    "resample",
    "sniff_format",
    "to_mono",
]
