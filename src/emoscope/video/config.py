"""The ``video`` section of an experiment config: face frames beside the audio features, and
contrastive audio-video pre-training.

::

    features: {name: spectrogram-image, duration: 3.0, ...}    # the audio stream's input
    video:
      features: {name: face-frames, n_frames: 20, duration: 3.0, height: 60, width: 100}
      pretrain: {epochs: 10, margin: 1.0, lr: 0.0001}         # epochs: 0 = direct supervised
    model: {name: av-fusion, ...}

Without a ``video`` section an experiment is audio-only (or video-only, when its ``features``
are ``face-frames``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from emoscope.augment.config import AugmentConfig
from emoscope.errors import ConfigError
from emoscope.features.base import FeatureSection
from emoscope.models.base import MODELS, ModelSection
from emoscope.schema import config_from_dict

__all__ = ["AudioVisualConfig", "ContrastiveConfig", "check_audio_visual"]


@dataclass(frozen=True)
class ContrastiveConfig:
    """Contrastive audio-video pre-training (:mod:`emoscope.train.contrastive`).

    Attributes
    ----------
    epochs : int
        Pre-training epochs before the supervised fine-tuning; 0 trains directly.
    lr : float
        Adam learning rate of the pre-training.
    batch_size : int, optional
        Clips per batch (``None``: the ``train`` section's).
    margin : float
        The contrastive loss's margin: negative pairs closer than this are pushed apart.
    hard_negatives : int
        Pairs per clip with the frames of another clip of another emotion.
    super_hard_negatives : int
        Pairs per clip with the frames of another clip of the same emotion.
    standardize : bool
        Standardise each stream's embeddings over the batch (zero mean, unit variance per
        dimension) before comparing them. The last hidden layers are ReLU outputs whose shared
        mean dominates: without this, L2-normalised embeddings of different clips are nearly
        identical at initialisation (spread ~1e-4) and the loss settles at its trivial optimum,
        one distance for every pair.
    normalize : bool
        Compare L2-normalised embeddings (distances in [0, 2]).
    """

    epochs: int = 0
    lr: float = 1e-4
    batch_size: int | None = None
    margin: float = 1.0
    hard_negatives: int = 1
    super_hard_negatives: int = 1
    standardize: bool = True
    normalize: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.hard_negatives < 0 or self.super_hard_negatives < 0:
            raise ConfigError("pretrain epochs and negatives must be >= 0")
        if not self.lr > 0 or not self.margin > 0:
            raise ConfigError(f"pretrain lr and margin must be positive, got {self.lr}, "
                              f"{self.margin}")
        if self.batch_size is not None and self.batch_size < 2:
            raise ConfigError(f"pretrain batch_size must be >= 2, got {self.batch_size}")


@dataclass(frozen=True)
class AudioVisualConfig:
    """The ``video`` section.

    Attributes
    ----------
    features : FeatureSection
        The video feature, ``{"name": "face-frames", **options}``, parsed by its extractor.
    pretrain : ContrastiveConfig
    face_report : bool
        Write ``faces.csv`` (frames with a detected face, per clip) into the run directory.
    """

    features: FeatureSection
    pretrain: ContrastiveConfig = field(default_factory=ContrastiveConfig)
    face_report: bool = True

    def __post_init__(self) -> None:
        if self.features.extractor_class.input_column != "video_path":
            raise ConfigError(f"'video.features' must be a video feature (face-frames), got "
                              f"{self.features.name!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudioVisualConfig:
        """Build and check the section (unknown keys and wrong types raise
        :class:`ConfigError` naming them)."""
        return config_from_dict(cls, data, where="video")

    @classmethod
    def from_section(cls, data: Any, *, where: str = "video") -> AudioVisualConfig | None:
        """The ``video`` section of an experiment config; ``None`` or ``{}``: audio only."""
        return None if data is None or data == {} else cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON-ready dict (what :meth:`from_dict` reads back)."""
        return {"features": self.features.to_dict(),
                "pretrain": dataclasses.asdict(self.pretrain), "face_report": self.face_report}


def check_audio_visual(av: AudioVisualConfig | None, *, model: ModelSection,
                       augment: AugmentConfig) -> None:
    """Check an experiment's ``video`` section against its model and augmentation.

    Raises
    ------
    ConfigError
        Augmentation other than the spectrogram images' crop and rotation (mixup, SpecAugment
        and waveform copies act on one input); a model without audio and video inputs;
        contrastive pre-training of a model without two streams.
    """
    if av is None:
        return
    if augment.waveform_enabled or augment.feature_enabled or augment.mixup_alpha > 0:
        raise ConfigError("audio-visual experiments take only the spectrogram images' "
                          "crop and rotation augmentation (not waveform copies, "
                          "SpecAugment or mixup)")
    model_cls = MODELS.get(model.name)
    if not any("+" in k for k in model_cls.input_kinds):
        raise ConfigError(f"a 'video' section needs a model with audio and video inputs "
                          f"(av-fusion, av-late-fusion), not {model.name!r}")
    if av.pretrain.epochs and not hasattr(model_cls, "embed_pair"):
        raise ConfigError(f"contrastive pre-training needs a two-stream model; "
                          f"{model.name!r} has none")
