"""Prosody: F0, energy and voicing per frame, or their utterance functionals.

F0 comes from YIN (``librosa.yin``, 60-500 Hz by default: fast, one FFT per frame), which
proposes a period in every frame. A frame is called voiced when all three hold:

- periodicity >= ``voicing_threshold``: the normalised autocorrelation of the frame at the YIN
  period (near 1 for voiced speech, near 0 for noise and silence; Praat's voicing threshold is
  0.45);
- energy >= ``silence_db`` (absolute, dB re full scale);
- energy >= the utterance's loudest frame minus ``dynamic_range_db`` (so a quiet breath under
  loud speech is not voiced, whatever the recording level).

This is much faster than ``librosa.pyin`` (tens of milliseconds for 3 s, not seconds) and does
not depend on the recording level. Unvoiced frames have F0 0; silence gives no voiced frames,
F0 functionals of 0 and ``voiced_fraction`` 0 (never NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emoscope.errors import ConfigError, TooShortAudioError
from emoscope.features.base import FeatureConfig, FeatureExtractor, register_feature

OUTPUT_CHOICES = ("sequence", "functionals")
F0_SCALE_CHOICES = ("hz", "semitones")
#: Reference of the semitone scale (A0, as eGeMAPS): ``12 * log2(f0 / 27.5)``.
SEMITONE_REF_HZ = 27.5
_STATS = ("mean", "std", "min", "max", "range", "p20", "p50", "p80")


@dataclass(frozen=True)
class ProsodyConfig(FeatureConfig):
    """Options of :class:`Prosody`.

    Attributes
    ----------
    fmin, fmax : float
        F0 search range in Hz.
    frame_length, hop_length : int
        Analysis frame (even; more than two periods of ``fmin``) and hop in samples
        (50 ms / 10 ms at 16 kHz by default).
    voicing_threshold : float
        Minimum periodicity of a voiced frame, in (0, 1).
    silence_db : float
        Minimum frame energy of a voiced frame, dB re full scale.
    dynamic_range_db : float
        Voiced frames are at most this many dB below the loudest frame.
    f0_scale : str
        ``"hz"`` or ``"semitones"`` (re 27.5 Hz) for the F0 column and the F0 functionals.
    output : str
        ``"sequence"``: ``(n_frames, 4)`` columns ``f0, energy_db, periodicity, voiced``;
        ``"functionals"``: ``(17,)`` (see :meth:`Prosody.feature_names`).
    """

    fmin: float = 60.0
    fmax: float = 500.0
    frame_length: int = 800
    hop_length: int = 160
    voicing_threshold: float = 0.45
    silence_db: float = -60.0
    dynamic_range_db: float = 40.0
    f0_scale: str = "hz"
    output: str = "sequence"


@register_feature("prosody", aliases=("pitch-energy",))
class Prosody(FeatureExtractor):
    """F0, frame energy (RMS in dB re full scale, floored at -100 dB) and voicing.

    Output, ``output="sequence"``: ``(n_frames, 4)``, ``n_frames = 1 + n // hop_length``,
    columns ``[f0 (0 where unvoiced), energy_db, periodicity (clipped to [0, 1]), voiced (0/1)]``.

    Output, ``output="functionals"``: ``(17,)``: mean, std, min, max, range, 20th/50th/80th
    percentiles of F0 over voiced frames (all 0 without voiced frames), the same eight of
    energy over all frames, and the voiced fraction.

    Inputs shorter than one ``frame_length`` frame raise :class:`AudioError`.
    """

    Config = ProsodyConfig
    kind = "sequence"
    config: ProsodyConfig

    def validate_config(self) -> None:
        c = self.config
        if not 0 < c.fmin < c.fmax <= c.sample_rate / 2:
            raise ConfigError(f"need 0 < fmin < fmax <= {c.sample_rate / 2:g} Hz, got "
                              f"fmin={c.fmin}, fmax={c.fmax}")
        if c.frame_length % 2 or c.frame_length < 4 or c.hop_length < 1:
            raise ConfigError(f"frame_length must be even and >= 4, hop_length >= 1, got "
                              f"{c.frame_length}, {c.hop_length}")
        if c.sample_rate / c.fmin >= c.frame_length // 2:
            need = int(np.ceil(c.sample_rate / c.fmin)) * 2 + 2
            raise ConfigError(f"frame_length={c.frame_length} holds fewer than two periods of "
                              f"fmin={c.fmin} Hz; use frame_length >= {need} or a higher fmin")
        if not 0 < c.voicing_threshold < 1:
            raise ConfigError(f"voicing_threshold must be in (0, 1), got {c.voicing_threshold}")
        if not c.dynamic_range_db > 0:
            raise ConfigError(f"dynamic_range_db must be positive, got {c.dynamic_range_db}")
        if c.f0_scale not in F0_SCALE_CHOICES:
            raise ConfigError(f"f0_scale must be one of {', '.join(F0_SCALE_CHOICES)}, got "
                              f"{c.f0_scale!r}")
        if c.output not in OUTPUT_CHOICES:
            raise ConfigError(f"output must be one of {', '.join(OUTPUT_CHOICES)}, got "
                              f"{c.output!r}")
        self.kind = "sequence" if c.output == "sequence" else "vector"  # set by the config

    def frames(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """The per-frame tracks of a mono waveform already at ``config.sample_rate``.

        Returns
        -------
        dict of np.ndarray [shape=(n_frames,)]
            ``f0_hz`` (0 where unvoiced), ``energy_db``, ``periodicity``, ``voiced`` (bool).
        """
        from emoscope.features.functional import frame_rms_db, pitch_yin

        c = self.config
        if y.shape[-1] < c.frame_length:
            raise TooShortAudioError(f"{self.name}: {y.shape[-1]} samples at {c.sample_rate} Hz is "
                             f"shorter than one {c.frame_length}-sample frame")
        f0, periodicity = pitch_yin(y, c.sample_rate, fmin=c.fmin, fmax=c.fmax,
                                    frame_length=c.frame_length, hop_length=c.hop_length)
        energy = frame_rms_db(y, frame_length=c.frame_length, hop_length=c.hop_length)
        loud_enough = (energy >= c.silence_db) & (energy >= energy.max() - c.dynamic_range_db)
        voiced = (periodicity >= c.voicing_threshold) & loud_enough
        return {"f0_hz": np.where(voiced, f0, 0.0).astype(np.float32), "energy_db": energy,
                "periodicity": np.clip(periodicity, 0.0, 1.0), "voiced": voiced}

    def _scale_f0(self, f0_hz: np.ndarray) -> np.ndarray:
        """Hz to the configured scale; zeros (unvoiced) stay 0."""
        if self.config.f0_scale == "hz":
            return f0_hz
        safe = np.where(f0_hz > 0, f0_hz, SEMITONE_REF_HZ)
        return np.where(f0_hz > 0, 12.0 * np.log2(safe / SEMITONE_REF_HZ), 0.0)

    def extract(self, y: np.ndarray) -> np.ndarray:
        t = self.frames(y)
        f0 = self._scale_f0(t["f0_hz"])
        if self.config.output == "sequence":
            return np.stack([f0, t["energy_db"], t["periodicity"],
                             t["voiced"].astype(np.float32)], axis=1)  # (frames, 4)
        voiced = t["voiced"]
        return np.concatenate([_stats(f0[voiced]), _stats(t["energy_db"]),
                               [voiced.mean()]])  # (17,)

    def feature_names(self) -> list[str]:
        """Column names (sequence) or the 17 functional names (functionals)."""
        unit = "hz" if self.config.f0_scale == "hz" else "st"
        if self.config.output == "sequence":
            return [f"f0_{unit}", "energy_db", "periodicity", "voiced"]
        return ([f"f0_{unit}_{s}" for s in _STATS] + [f"energy_db_{s}" for s in _STATS]
                + ["voiced_fraction"])


def _stats(x: np.ndarray) -> np.ndarray:
    """mean, std, min, max, range, p20, p50, p80 of ``x``; zeros when ``x`` is empty."""
    if x.size == 0:
        return np.zeros(len(_STATS), dtype=np.float64)
    x = x.astype(np.float64)
    lo, hi = x.min(), x.max()
    return np.array([x.mean(), x.std(), lo, hi, hi - lo, *np.percentile(x, [20, 50, 80])])
