"""Audio in: decode files, mix to mono, resample, normalise loudness, find speech, cut, denoise."""

from emoscope.audio.denoise import bandpass, denoise, spectral_gate
from emoscope.audio.dsp import StreamResampler, resample, to_mono
from emoscope.audio.formats import (
    AUDIO_EXTENSIONS,
    MEDIA_EXTENSIONS,
    VIDEO_EXTENSIONS,
    is_media_file,
    sniff_format,
)
from emoscope.audio.io import AudioInfo, audio_info, iter_blocks, load_audio
from emoscope.audio.loudness import (
    integrated_loudness,
    normalize_loudness,
    normalize_peak,
    normalize_rms,
)
from emoscope.audio.segment import fixed_segments, pad_or_crop
from emoscope.audio.speech import energy_segments, speech_segments, trim_silence
from emoscope.audio.vad import SileroVAD, VADStream

__all__ = [
    "AUDIO_EXTENSIONS",
    "MEDIA_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "AudioInfo",
    "SileroVAD",
    "StreamResampler",
    "VADStream",
    "audio_info",
    "bandpass",
    "denoise",
    "energy_segments",
    "fixed_segments",
    "integrated_loudness",
    "is_media_file",
    "iter_blocks",
    "load_audio",
    "normalize_loudness",
    "normalize_peak",
    "normalize_rms",
    "pad_or_crop",
    "resample",
    "sniff_format",
    "spectral_gate",
    "speech_segments",
    "to_mono",
    "trim_silence",
]
