"""The loaders and the data check on the real recordings in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from emoscope import corpora
from emoscope.doctor import check_corpus

pytestmark = pytest.mark.integration


def test_tess(shared_data):
    df = corpora.load("tess", shared_data / "TESS")
    assert len(df) == 2798
    assert df.speaker.nunique() == 2 and df.label.nunique() == 7
    assert df.attrs["skipped"] == []
    assert df.id.is_unique and df.path.map(lambda p: Path(p).is_file()).all()


def test_ravdess(shared_data):
    df = corpora.load("ravdess", shared_data / "RAVDESS")
    assert len(df) == 1440
    assert df.speaker.nunique() == 24 and df.label.nunique() == 8
    assert df.gender.value_counts().to_dict() == {"male": 720, "female": 720}
    assert (df.groupby("speaker").size() == 60).all()


def test_doctor_finds_the_ravdess_duplicate(shared_data):
    rep = check_corpus(shared_data / "RAVDESS", progress=False)
    assert rep.corpus == "ravdess"
    names = [sorted(Path(p).stem for p in g) for g in rep.duplicates]
    assert names == [["03-01-03-01-02-01-07", "03-01-03-01-02-02-07"]]
    assert rep.errors == []
    assert rep.counts()["utterances"] == 1440


def test_doctor_on_tess_is_clean(shared_data):
    rep = check_corpus(shared_data / "TESS", corpus="tess", progress=False)
    assert rep.summary()["readable"] == 2798
    assert rep.problems == [] and rep.duplicates == []
