"""Synthetic signals for tests (they live in :mod:`emoscope.audio.synth`)."""

from emoscope.audio.synth import chirp, noise, speechlike, tone, write_audio

__all__ = ["chirp", "noise", "speechlike", "tone", "write_audio"]
