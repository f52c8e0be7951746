"""File-type detection from content (magic bytes), independent of the file name.

Used to decode files whose extension lies (AIFF data behind a ``.wav`` name, a common fault of
TESS copies) and by ``emoscope doctor`` to report such mismatches.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AUDIO_EXTENSIONS",
    "EXTENSION_FORMATS",
    "MEDIA_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "is_media_file",
    "sniff_format",
]

#: Extensions of audio-only files the decoders read.
AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc",
     ".m4a", ".aac", ".au", ".caf", ".w64", ".rf64", ".webm"}
)
#: Extensions of video containers whose audio track the decoders read.
VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".avi", ".flv", ".mkv", ".mov", ".m4v"})
#: Every extension a corpus loader or a folder scan picks up.
MEDIA_EXTENSIONS: frozenset[str] = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS

#: The content format each extension promises (as returned by :func:`sniff_format`).
EXTENSION_FORMATS: dict[str, frozenset[str]] = {
    ".wav": frozenset({"wav"}),
    ".wave": frozenset({"wav"}),
    ".flac": frozenset({"flac"}),
    ".ogg": frozenset({"ogg"}),
    ".oga": frozenset({"ogg"}),
    ".opus": frozenset({"ogg"}),
    ".mp3": frozenset({"mp3"}),
    ".aif": frozenset({"aiff"}),
    ".aiff": frozenset({"aiff"}),
    ".aifc": frozenset({"aiff"}),
    ".m4a": frozenset({"mp4"}),
    ".aac": frozenset({"aac"}),
    ".au": frozenset({"au"}),
    ".caf": frozenset({"caf"}),
    ".w64": frozenset({"w64"}),
    ".rf64": frozenset({"wav"}),
    ".webm": frozenset({"matroska"}),
    ".mp4": frozenset({"mp4"}),
    ".m4v": frozenset({"mp4"}),
    ".mov": frozenset({"mp4"}),
    ".avi": frozenset({"avi"}),
    ".flv": frozenset({"flv"}),
    ".mkv": frozenset({"matroska"}),
}


def is_media_file(path: str | Path) -> bool:
    """True when ``path`` has an audio or video extension emoscope reads (any case)."""
    return Path(path).suffix.lower() in MEDIA_EXTENSIONS


def sniff_format(path: str | Path) -> str | None:
    """Name the container format of ``path`` from its first bytes.

    Returns
    -------
    str or None
        One of ``wav, aiff, flac, ogg, mp3, aac, mp4, avi, flv, matroska, au, caf, w64``, or
        ``None`` when the content is not a recognised media format (text, an empty file,
        random bytes).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return None
    if len(head) < 4:
        return None
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"FLV":
        return "flv"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b".snd":
        return "au"
    if head[:4] == b"caff":
        return "caf"
    if head[:4] == b"riff" and head[8:12] == b"wave":  # Sony Wave64 GUID prefix
        return "w64"
    if head[:3] == b"ID3":
        return "mp3"
    if head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:  # ADTS AAC: sync word, layer 00
        return "aac"
    if head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:  # MPEG audio frame sync
        return "mp3"
    return None
