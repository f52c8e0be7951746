"""Features: registered extractors (one file each), a content-keyed on-disk cache, and parallel
extraction with bounded memory.

Every module in this package except the infrastructure (``base``, ``functional``, ``cache``,
``extract``) defines one extractor and is imported automatically.
"""

from __future__ import annotations

import importlib
import pkgutil

from emoscope.features.base import (
    FEATURES,
    FeatureConfig,
    FeatureExtractor,
    create,
    register_feature,
)
from emoscope.features.cache import FeatureCache, default_cache_dir, file_hash
from emoscope.features.extract import FeatureSet, cached_paths, extract_features

_INFRASTRUCTURE = {"base", "functional", "cache", "extract"}
for _mod in pkgutil.iter_modules(__path__):
    if _mod.name not in _INFRASTRUCTURE and not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")


def available() -> list[str]:
    """Names of every registered feature extractor."""
    return FEATURES.names()


__all__ = [
    "FEATURES",
    "FeatureCache",
    "FeatureConfig",
    "FeatureExtractor",
    "FeatureSet",
    "available",
    "cached_paths",
    "create",
    "default_cache_dir",
    "extract_features",
    "file_hash",
    "register_feature",
]
