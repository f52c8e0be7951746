"""Every registered corpus has a fake builder, and its fake tree gives a valid manifest."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from emoscope import corpora


def fake_builder(name: str):
    """The ``make_*`` function of ``emoscope.testing.corpora.<module of the corpus loader>``."""
    module = corpora.get(name).prepare.__module__.rsplit(".", 1)[-1]
    fake = importlib.import_module(f"emoscope.testing.corpora.{module}")
    builders = [getattr(fake, n) for n in dir(fake) if n.startswith("make_")
                and getattr(getattr(fake, n), "__module__", None) == fake.__name__]
    assert len(builders) == 1, f"{fake.__name__} should have one make_* builder: {builders}"
    return builders[0]


@pytest.mark.parametrize("name", corpora.available())
def test_fake_tree_gives_a_valid_manifest(tmp_path, name):
    root = fake_builder(name)(tmp_path)
    df = corpora.validate_manifest(corpora.load(name, root))
    assert len(df) > 0
    assert tuple(df.columns[:6]) == corpora.MANIFEST_COLUMNS and "raw_label" in df.columns
    assert df.attrs["corpus"] == name and df.attrs["skipped"] == []
    assert set(df.corpus) == {name}
    assert set(df.label) <= {e.value for e in corpora.Emotion}
    assert set(df.label) == set(df.attrs["labels"])
    assert set(df.gender) <= {g.value for g in corpora.Gender}
    assert df.id.is_unique and all(Path(p).is_absolute() and Path(p).is_file() for p in df.path)
    if "video_path" in df.columns:
        assert all(Path(p).is_file() for p in df.video_path.dropna())
