"""The benchmark's protocols (../shared/benchmarks/protocols.json) on the real corpora."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from emoscope import corpora, protocols

pytestmark = pytest.mark.integration

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PROTOCOLS_JSON = SHARED / "benchmarks" / "protocols.json"
RAVDESS = SHARED / "data" / "RAVDESS"
TESS = SHARED / "data" / "TESS"


def _need(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"absent: {', '.join(missing)}")


@pytest.fixture(scope="module")
def ravdess() -> pd.DataFrame:
    _need(RAVDESS, PROTOCOLS_JSON)
    return corpora.load("ravdess", RAVDESS)


@pytest.fixture(scope="module")
def tess() -> pd.DataFrame:
    _need(TESS, PROTOCOLS_JSON)
    return corpora.load("tess", TESS)


def test_protocols_file_lists_the_benchmark_protocols():
    _need(PROTOCOLS_JSON)
    defs = protocols.load_protocols(PROTOCOLS_JSON)
    assert {"ravdess-si6", "tess-cross-speaker", "tess-random-80-20"} <= set(defs)


def test_ravdess_si6(ravdess):
    p = protocols.predefined(ravdess, "ravdess-si6", path=PROTOCOLS_JSON)
    assert len(p.folds) == 6 and not p.leaky
    assert p.labels == ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust",
                        "surprised")
    groups = protocols.load_protocols(PROTOCOLS_JSON)["ravdess-si6"]["test_speakers"]
    for fold, group in zip(p.folds, groups, strict=True):
        protocols.check_fold(fold, manifest=ravdess)
        assert len(fold.test) == 240  # 4 actors x 60 speech files
        assert len(fold.train) == 1200
        assert fold.test_speakers == tuple(f"{a:02d}" for a in sorted(group))
        assert len(fold.train_speakers) == 20
    tested = Counter(i for f in p.folds for i in f.test)
    assert len(tested) == 1440 and set(tested.values()) == {1}
    assert set(tested) == set(ravdess["id"])


def test_ravdess_si6_with_validation_speakers(ravdess):
    p = protocols.predefined(ravdess, "ravdess-si6", path=PROTOCOLS_JSON, valid_fraction=0.1)
    for fold in p.folds:
        protocols.check_fold(fold, manifest=ravdess)
        assert len(fold.valid_speakers) == 2 and not fold.valid_leaky
        assert (len(fold.train), len(fold.valid), len(fold.test)) == (1080, 120, 240)
        assert not set(fold.valid_speakers) & set(fold.test_speakers)


def test_tess_cross_speaker(tess):
    p = protocols.predefined(tess, "tess-cross-speaker", path=PROTOCOLS_JSON)
    assert not p.leaky and "LEAKY" not in str(p)
    assert p.labels == ("angry", "disgust", "fearful", "happy", "neutral", "surprised", "sad")
    assert [f.test_speakers for f in p.folds] == [("OAF",), ("YAF",)]
    assert [f.train_speakers for f in p.folds] == [("YAF",), ("OAF",)]
    assert [len(f.test) for f in p.folds] == [1399, 1399]  # two corrupted files left out
    assert sum(len(f.test) for f in p.folds) == len(tess) == 2798
    for fold in p.folds:
        protocols.check_fold(fold, manifest=tess)
        assert set(fold.train) | set(fold.test) == set(tess["id"])


def test_tess_cross_speaker_validation_is_marked_leaky(tess):
    p = protocols.predefined(tess, "tess-cross-speaker", path=PROTOCOLS_JSON,
                             valid_fraction=0.1)
    for fold in p.folds:
        protocols.check_fold(fold, manifest=tess)
        assert fold.valid_leaky and len(fold.valid) == 140 and len(fold.train) == 1259
    assert not p.leaky


def test_tess_random_80_20(tess):
    p = protocols.predefined(tess, "tess-random-80-20", path=PROTOCOLS_JSON)
    assert p.leaky and protocols.LEAKY_WARNING in str(p)
    assert p.to_dict()["warning"] == protocols.LEAKY_WARNING
    (fold,) = p.folds
    protocols.check_fold(fold, speaker_independent=False, manifest=tess)
    assert len(fold.test) == 560 and len(fold.train) == 2238
    assert fold.test_speakers == ("OAF", "YAF")
    # stratified: every label about a fifth tested
    lab = tess.set_index("id")["label"]
    assert set(lab.loc[list(fold.test)].value_counts()) <= {79, 80, 81}
    again = protocols.predefined(tess, "tess-random-80-20", path=PROTOCOLS_JSON)
    assert again.fingerprint == p.fingerprint


def test_shipped_protocols_match_the_shared_file():
    import json

    from emoscope.protocols.protocol_file import STANDARD_PROTOCOLS

    shared = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "protocols.json"
    if not shared.is_file():
        pytest.skip("../shared/benchmarks/protocols.json is absent")
    assert json.loads(STANDARD_PROTOCOLS.read_text()) == json.loads(shared.read_text())
