"""Feature extractors: small classes with a config dataclass, registered by name.

An extractor turns a mono waveform into an array, deterministically:

================ ============================== ===================================
kind             shape                          examples
================ ============================== ===================================
``"vector"``     ``(dim,)``                     MFCC mean, eGeMAPS functionals
``"sequence"``   ``(n_frames, dim)`` time-major MFCC+deltas, log-mel frames, SSL states
``"image"``      ``(channels, height, width)``  the IEMOCAP study's spectrogram images
================ ============================== ===================================

>>> from emoscope import features
>>> ext = features.create("logmel", n_mels=64)
>>> x = ext(y, sr)                 # resampled to ext.config.sample_rate first   # doctest: +SKIP

Writing a new feature means one file in this package with a ``@register_feature`` class; the
package imports it automatically. The cache key covers the extractor's name, its ``version`` and
every config field, so changing any of them never returns a stale array.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from emoscope.audio.dsp import resample, to_mono
from emoscope.errors import AudioError, ConfigError, EmoscopeError, EmptyAudioError
from emoscope.registry import Registry
from emoscope.schema import options_from_dict, split_named

__all__ = [
    "FEATURES",
    "FeatureConfig",
    "FeatureExtractor",
    "FeatureSection",
    "create",
    "register_feature",
]


#: Values of :attr:`FeatureConfig.trim`.
TRIM_CHOICES = ("none", "energy", "vad")


@dataclass(frozen=True)
class FeatureConfig:
    """Base of every extractor's config. Subclasses add their own (frozen, typed) fields.

    Attributes
    ----------
    sample_rate : int
        The rate the waveform is resampled to before extraction.
    trim : {"none", "energy", "vad"}
        Cut leading and trailing silence before extraction (after resampling):
        ``"energy"`` keeps what lies within ``trim_db`` of the loudest frame, ``"vad"`` keeps
        from the first to the last Silero speech segment (see
        :func:`emoscope.audio.speech.trim_silence`). Part of the config, so a model bundle trims
        its inputs at inference exactly as in training.
    trim_db : float
        Threshold of ``trim="energy"``, in dB below the loudest frame.
    duration : float or None
        Bring every input to exactly this many seconds (after trimming) before extraction:
        longer inputs keep their middle, shorter ones are zero-padded on both sides; the IEMOCAP
        study's fixed 3 s clips are ``duration=3.0``. ``None`` keeps each input's length.
    """

    sample_rate: int = 16000
    trim: str = "none"
    trim_db: float = 40.0
    duration: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Build from a dict; unknown keys and wrong types raise :class:`ConfigError` naming
        them (see :func:`emoscope.schema.options_from_dict`)."""
        return options_from_dict(cls, data)


class FeatureExtractor(ABC):
    """Base class: validates and resamples the input, then calls :meth:`extract`.

    Subclasses set ``Config`` (a :class:`FeatureConfig` subclass), ``kind`` and, when the output
    changes for the same config (a bug fix, a new default inside the code), bump ``version``.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type[FeatureConfig]] = FeatureConfig
    kind: str = "vector"  # may be set per instance when the config decides it
    version: ClassVar[str] = "1"
    #: The manifest column naming the file this extractor reads: ``"path"`` (the audio) for
    #: waveform features, ``"video_path"`` for the video features of :mod:`emoscope.video`.
    input_column: ClassVar[str] = "path"
    #: The dtype cache entries are stored in (``None``: float32, as extracted); reads give
    #: float32 again. Set per instance when the config decides it (large frame sequences).
    cache_dtype: np.dtype | None = None

    def __init__(self, config: FeatureConfig | None = None, **overrides: Any) -> None:
        if config is None:
            config = self.Config.from_dict(overrides)
        elif overrides:
            config = self.Config.from_dict({**config.to_dict(), **overrides})
        if not isinstance(config, self.Config):
            raise ConfigError(f"{type(self).__name__} needs a {self.Config.__name__}, "
                              f"got {type(config).__name__}")
        if config.sample_rate <= 0:
            raise ConfigError(f"sample_rate must be positive, got {config.sample_rate}")
        if config.trim not in TRIM_CHOICES:
            raise ConfigError(f"trim must be one of {', '.join(TRIM_CHOICES)}, got "
                              f"{config.trim!r}")
        if not config.trim_db > 0:
            raise ConfigError(f"trim_db must be positive, got {config.trim_db}")
        if config.duration is not None and not config.duration * config.sample_rate >= 1:
            raise ConfigError(f"duration must be positive (seconds), got {config.duration}")
        self.config = config
        self.validate_config()

    def validate_config(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Raise :class:`ConfigError` for inconsistent options (override when needed)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.to_dict().items())
        return f"{type(self).__name__}({args})"

    def __call__(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Extract from a waveform at any rate.

        Parameters
        ----------
        y : np.ndarray [shape=(n,) or (channels, n)]
            Mixed down to mono, resampled to ``config.sample_rate``.
        sr : int

        Returns
        -------
        np.ndarray
            float32, shape per :attr:`kind` (see the module docstring), finite.

        Raises
        ------
        AudioError
            Not a waveform, non-finite samples, or too short for this feature.
        """
        return self._finish(self.extract(self.prepare(y, sr)))

    def prepare(self, y: np.ndarray, sr: int) -> np.ndarray:
        """The waveform :meth:`extract` sees: checked, mono, at ``config.sample_rate``,
        trimmed and brought to ``config.duration`` as configured.

        Raises
        ------
        AudioError
            Not a float waveform, empty, non-finite, or a bad rate.
        """
        x = np.asarray(y)
        if x.ndim not in (1, 2) or not np.issubdtype(x.dtype, np.floating):
            raise AudioError(f"expected a float waveform of shape (n,) or (channels, n), got "
                             f"{x.dtype} {x.shape}")
        if x.shape[-1] == 0:
            raise EmptyAudioError("empty waveform")
        if sr <= 0:
            raise AudioError(f"sample rate must be positive, got {sr}")
        if not np.isfinite(x).all():
            raise AudioError("waveform holds NaN or infinite samples")
        x = to_mono(x.astype(np.float32, copy=False))
        if sr != self.config.sample_rate:
            x = resample(x, sr, self.config.sample_rate).astype(np.float32, copy=False)
        if self.config.trim != "none":
            from emoscope.audio.speech import trim_silence

            method = "vad" if self.config.trim == "vad" else "energy"
            x = trim_silence(x, self.config.sample_rate, method=method,
                             top_db=self.config.trim_db)
        if self.config.duration is not None:
            from emoscope.audio.segment import pad_or_crop

            x = pad_or_crop(x, round(self.config.duration * self.config.sample_rate),
                            position="center")
        return x

    def _finish(self, out: np.ndarray) -> np.ndarray:
        arr = np.asarray(out, dtype=np.float32)
        if not np.isfinite(arr).all():
            raise AudioError(f"{self.name}: the feature has non-finite values for this input")
        return arr

    #: Clips an extractor computes together (:meth:`extract_batch`); 1: one at a time.
    batch_size: ClassVar[int] = 1

    def extract_batch(self, waveforms: list[np.ndarray]) -> list[np.ndarray]:
        """:meth:`extract` of several prepared waveforms; extractors that gain from batching
        (a neural encoder) override it. A clip's output must not depend on its batch."""
        return [self.extract(y) for y in waveforms]

    def call_batch(self, clips: list[tuple[np.ndarray, int]]
                   ) -> list[np.ndarray | EmoscopeError]:
        """:meth:`__call__` of several ``(waveform, rate)`` clips, computed together; a clip
        that cannot be used gives its error in its place, and the others go on."""
        out: list[np.ndarray | EmoscopeError] = []
        ready: list[tuple[int, np.ndarray]] = []
        for k, (y, sr) in enumerate(clips):
            try:
                ready.append((k, self.prepare(y, sr)))
                out.append(AudioError("not extracted"))
            except EmoscopeError as exc:
                out.append(exc)
        if ready:
            try:
                results = self.extract_batch([x for _, x in ready])
            except EmoscopeError:  # one bad clip: find it by extracting one at a time
                results = []
                for _, x in ready:
                    try:
                        results.append(self.extract(x))
                    except EmoscopeError as exc:
                        results.append(exc)
            for (k, _), r in zip(ready, results, strict=True):
                try:
                    out[k] = r if isinstance(r, EmoscopeError) else self._finish(r)
                except EmoscopeError as exc:
                    out[k] = exc
        return out

    def cached_view(self) -> tuple[FeatureExtractor, Callable[[np.ndarray], np.ndarray]] | None:
        """Another extractor whose cached output holds this one's, and the cheap function
        (a slice) that takes this one's array out of it; ``None`` (the default) when there is
        none.

        :func:`~emoscope.features.extract.extract_features` then extracts and caches the other
        extractor's features and reads this one's through the function, so that, for example,
        every layer subset of an encoder shares one pass and one cache entry per file.
        :meth:`__call__` is unaffected and must give the same array.
        """
        return None

    def from_file(self, path: str | os.PathLike[str], *, offset: float = 0.0,
                  duration: float | None = None,
                  max_duration: float | None = None) -> np.ndarray:
        """Decode ``path`` (``duration`` seconds from ``offset``; the rest when ``None``) and
        extract. Video features override this to read frames instead of the sound track.

        Raises
        ------
        AudioError
            Unreadable, empty, too long (``max_duration`` seconds) or unusable audio.
        """
        from emoscope.audio.io import load_audio

        y, sr = load_audio(path, offset=offset, duration=duration, max_duration=max_duration)
        return self(y, sr)

    @abstractmethod
    def extract(self, y: np.ndarray) -> np.ndarray:
        """The feature of a mono float32 waveform already at ``config.sample_rate``."""

    def feature_names(self) -> list[str] | None:
        """Names of the output dimensions (vector features), or ``None``."""
        return None

    def cache_key(self) -> str:
        """A stable hex digest of name, version and config: equal keys, equal outputs
        (``8000`` and ``8000.0`` are the same value here)."""
        config = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                  for k, v in self.config.to_dict().items()}
        spec = {"name": self.name, "version": self.version, "config": config}
        blob = json.dumps(spec, sort_keys=True, default=str).encode()
        return hashlib.blake2b(blob, digest_size=12).hexdigest()

    def spec(self) -> dict[str, Any]:
        """``{"name": ..., "config": {...}}``: enough to rebuild the extractor with
        :func:`create` (stored in model bundles and cache folders)."""
        return {"name": self.name, "version": self.version, "config": self.config.to_dict()}


#: Every registered feature extractor class, by name.
FEATURES: Registry[type[FeatureExtractor]] = Registry("feature")


def register_feature(
    name: str, *, aliases: tuple[str, ...] = ()
) -> Callable[[type[FeatureExtractor]], type[FeatureExtractor]]:
    """Class decorator: register a :class:`FeatureExtractor` subclass as ``name``."""

    def deco(cls: type[FeatureExtractor]) -> type[FeatureExtractor]:
        if not (isinstance(cls, type) and issubclass(cls, FeatureExtractor)):
            raise ConfigError(f"{cls!r} is not a FeatureExtractor subclass")
        cls.name = name
        FEATURES.register(name, aliases=aliases)(cls)
        return cls

    return deco


@dataclass(frozen=True)
class FeatureSection:
    """A ``features`` section of an experiment config, parsed by the registered extractor.

    ``{"name": "logmel", "n_mels": 64}`` becomes ``FeatureSection("logmel", LogMelConfig(...))``
    once, when the config loads; :meth:`create` builds the extractor.

    Attributes
    ----------
    name : str
        The registered name, as written.
    config : FeatureConfig
        The extractor's config (the registered class's ``Config``).
    """

    name: str
    config: FeatureConfig

    @classmethod
    def from_section(cls, data: Any, *, where: str = "features") -> FeatureSection:
        """Parse ``{"name": ..., **options}``.

        Raises
        ------
        ConfigError
            Not a mapping, no ``name``, an unknown feature
            (:class:`~emoscope.errors.UnknownNameError`) or bad options.
        """
        name, options = split_named(data, where=where)
        return cls(name=name, config=FEATURES.get(name).Config.from_dict(options))

    @property
    def extractor_class(self) -> type[FeatureExtractor]:
        """The registered extractor class."""
        return FEATURES.get(self.name)

    def create(self) -> FeatureExtractor:
        """The extractor this section describes."""
        return self.extractor_class(self.config)

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., **every option}``: what :meth:`from_section` reads back."""
        return {"name": self.name, **self.config.to_dict()}


def create(name: str | dict[str, Any] | FeatureSection, **config: Any) -> FeatureExtractor:
    """Build a registered extractor: ``create("mfcc-mean", n_mfcc=40)``, from a
    :meth:`FeatureExtractor.spec` dict (``{"name", "version", "config"}``), or from a config
    section (``{"name": "mfcc-mean", "n_mfcc": 40}``, or an experiment's parsed ``features``)."""
    if isinstance(name, FeatureSection):
        return name.create() if not config else create(name.to_dict(), **config)
    if isinstance(name, dict):
        spec = name
        # a spec keeps its options under "config"; a config section holds them beside "name"
        options = spec["config"] if "config" in spec else {
            k: v for k, v in spec.items() if k not in ("name", "version")}
        return create(spec["name"], **{**options, **config})
    return FEATURES.get(name)(**config)
