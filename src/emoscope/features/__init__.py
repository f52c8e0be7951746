"""Features: registered extractors (one file each), a content-keyed on-disk cache, and parallel
extraction with bounded memory.

Every module in this package except the infrastructure (``base``, ``functional``, ``cache``,
``extract``, ``inputs``, ``standardize``, ``whisper_encoder``, ``whisper_frontend``) defines one
extractor and is imported automatically.
"""

from __future__ import annotations

from emoscope.features.base import (
    FEATURES,
    FeatureConfig,
    FeatureExtractor,
    FeatureSection,
    create,
    register_feature,
)
from emoscope.features.cache import FeatureCache, default_cache_dir, file_hash
from emoscope.features.extract import (
    FeatureSet,
    WaveformVariant,
    cached_paths,
    extract_features,
)
from emoscope.registry import import_plugins

import_plugins(__name__, __path__, infrastructure={"base", "functional", "cache", "extract",
                                                  "inputs", "standardize",
                                                  "whisper_encoder", "whisper_frontend"})


def available() -> list[str]:
    """Names of every registered feature extractor."""
    return FEATURES.names()


__all__ = [
    "FEATURES",
    "FeatureCache",
    "FeatureConfig",
    "FeatureExtractor",
    "FeatureSection",
    "FeatureSet",
    "WaveformVariant",
    "available",
    "cached_paths",
    "create",
    "default_cache_dir",
    "extract_features",
    "file_hash",
    "register_feature",
]
