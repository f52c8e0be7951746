"""Helpers that build test data: synthetic signals and fake corpus trees with real naming schemes.

They ship with the package (as lhotse's do) so that users' own tests can use them too.
"""

from emoscope.testing.synth import chirp, noise, speechlike, tone, write_audio

__all__ = ["chirp", "noise", "speechlike", "tone", "write_audio"]
