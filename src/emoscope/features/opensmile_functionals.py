"""openSMILE functionals: eGeMAPS (88 values) and ComParE 2016 (6373 values) per utterance.

Both come from audEERING's ``opensmile`` package (``Smile.process_signal`` at the functionals
level). The ``Smile`` object is built once per process and feature set, then shared: building it
parses the openSMILE config, while each call runs a fresh native openSMILE instance, so sharing it
between threads is safe.

openSMILE needs at least :data:`MIN_SECONDS` (60 ms, its longest analysis frame) of audio; shorter
input raises :class:`~emoscope.errors.AudioError` instead of the NaN row openSMILE would return.
Silence is fine (finite values). Samples are clipped to the 16-bit range first: openSMILE converts
to int16 without clipping, so a peak at +1.0 or beyond would wrap around to -1.0.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from emoscope.errors import AudioError, ConfigError, TooShortAudioError
from emoscope.features.base import FeatureConfig, FeatureExtractor, register_feature

if TYPE_CHECKING:
    import opensmile

__all__ = ["MIN_SECONDS", "ComParE", "ComParEConfig", "EGeMAPS", "EGeMAPSConfig", "SmileConfig"]

#: Shortest input openSMILE's functionals accept (measured: 60 ms at 8, 16, 22.05 and 48 kHz).
MIN_SECONDS = 0.060

_INT16_MAX = 32767 / 32768  # opensmile scales by 32768 and casts to int16 without clipping
_SMILES: dict[str, opensmile.Smile] = {}
_SMILES_LOCK = threading.Lock()


def _smile(feature_set: str) -> opensmile.Smile:
    """The process-wide ``opensmile.Smile`` for ``feature_set`` (functionals), built once."""
    with _SMILES_LOCK:
        smile = _SMILES.get(feature_set)
        if smile is None:
            import opensmile

            smile = opensmile.Smile(feature_set=opensmile.FeatureSet[feature_set],
                                    feature_level=opensmile.FeatureLevel.Functionals)
            _SMILES[feature_set] = smile
        return smile


@dataclass(frozen=True)
class SmileConfig(FeatureConfig):
    """Options shared by the openSMILE extractors.

    Attributes
    ----------
    feature_set : str
        An ``opensmile.FeatureSet`` member name; each extractor accepts a few.
    """

    feature_set: str = ""


@dataclass(frozen=True)
class EGeMAPSConfig(SmileConfig):
    """Options of :class:`EGeMAPS`.

    Attributes
    ----------
    feature_set : str
        ``"eGeMAPSv02"`` (current) or ``"eGeMAPSv01b"`` (deprecated by audEERING; 88 values too).
    """

    feature_set: str = "eGeMAPSv02"


@dataclass(frozen=True)
class ComParEConfig(SmileConfig):
    """Options of :class:`ComParE`.

    Attributes
    ----------
    feature_set : str
        ``"ComParE_2016"`` (the only choice; kept as an option so that a later set is a config
        change, not a new extractor).
    """

    feature_set: str = "ComParE_2016"


class _SmileFunctionals(FeatureExtractor):
    """Shared body of the openSMILE functionals extractors (not registered itself)."""

    kind = "vector"
    config: SmileConfig
    #: Feature sets this extractor accepts, and the number of values each gives.
    feature_sets: ClassVar[dict[str, int]] = {}

    def validate_config(self) -> None:
        fs = self.config.feature_set
        if fs not in self.feature_sets:
            raise ConfigError(f"{self.name}: feature_set must be one of "
                              f"{', '.join(self.feature_sets)}; got {fs!r}")

    @property
    def dim(self) -> int:
        """Number of output values."""
        return self.feature_sets[self.config.feature_set]

    def extract(self, y: np.ndarray) -> np.ndarray:
        sr = self.config.sample_rate
        min_samples = math.ceil(MIN_SECONDS * sr - 1e-9)
        if y.shape[-1] < min_samples:
            raise TooShortAudioError(f"{self.name}: {y.shape[-1] / sr * 1000:.1f} ms of audio "
                                     "is too short; openSMILE needs at least "
                                     f"{MIN_SECONDS * 1000:.0f} ms")
        x = np.clip(y, -1.0, _INT16_MAX).astype(np.float32, copy=False)
        table = _smile(self.config.feature_set).process_signal(x, sr)  # DataFrame (1, dim)
        out = table.to_numpy(dtype=np.float32)[0]  # (dim,)
        if not np.isfinite(out).all():
            raise AudioError(f"{self.name}: openSMILE returned non-finite values for this "
                             f"input ({y.shape[-1] / sr:.3f} s)")
        return out

    def feature_names(self) -> list[str]:
        """openSMILE's own names (``smile.feature_names``), in output order."""
        return list(_smile(self.config.feature_set).feature_names)


@register_feature("egemaps")
class EGeMAPS(_SmileFunctionals):
    """The extended Geneva Minimalistic Acoustic Parameter Set, as utterance functionals.

    Output: ``(88,)`` float32 (pitch, jitter, shimmer, loudness, formants, spectral slope, ...;
    names from :meth:`feature_names`).
    """

    Config = EGeMAPSConfig
    config: EGeMAPSConfig
    feature_sets: ClassVar[dict[str, int]] = {"eGeMAPSv02": 88, "eGeMAPSv01b": 88}


@register_feature("compare")
class ComParE(_SmileFunctionals):
    """The INTERSPEECH ComParE 2016 brute-force set, as utterance functionals.

    Output: ``(6373,)`` float32. About a tenth of a second per 3 s of audio.
    """

    Config = ComParEConfig
    config: ComParEConfig
    feature_sets: ClassVar[dict[str, int]] = {"ComParE_2016": 6373}
