"""A user's own CSV/TSV/JSON/JSON-lines manifest."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from emoscope import corpora
from emoscope.errors import ConfigError, CorpusError
from emoscope.testing.corpora.folder import make_folder_corpus
from emoscope.testing.corpora.manifest_file import ROWS, make_manifest_file


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl"])
def test_formats(tmp_path, fmt):
    path = make_manifest_file(tmp_path, fmt=fmt)
    df = corpora.load("manifest", path)
    assert len(df) == len(ROWS) == 7
    assert df.label.value_counts().to_dict() == {"angry": 2, "neutral": 2, "sad": 2, "happy": 1}
    assert df.gender.value_counts().to_dict() == {"female": 3, "male": 2, "unknown": 2}
    assert df.speaker.value_counts().to_dict() == {"ann": 3, "bob": 3, "cy": 1}
    # ids are stems, except where stems collide: then the relative path without extension
    assert sorted(df.id) == ["ann_02", "ann_03", "audio/ann/ann_01", "audio/cy/take/ann_01",
                             "bob_01", "bob_02", "bob_03"]
    r = df.set_index("id").loc["bob_01"]
    assert (r.label, r.raw_label, r.score) == ("angry", "ang", pytest.approx(0.3))
    assert r.path == str((tmp_path / "audio" / "bob" / "bob_01.wav").resolve())
    assert df.corpus.unique().tolist() == ["manifest"]
    assert df.attrs["root"] == str(path.resolve())


def test_csv_alias_and_flac(tmp_path):
    df = corpora.load("csv", make_manifest_file(tmp_path, ext=".flac"))
    assert len(df) == 7 and df.path.str.endswith(".flac").all()


def test_missing_files(tmp_path):
    path = make_manifest_file(tmp_path)
    with open(path, "a") as f:
        f.write("audio/gone.wav,sad,zed,m,9\naudio/gone2.wav,sad,zed,m,9\n")
    with pytest.raises(CorpusError, match=r"2 of 9 listed files do not exist.*gone\.wav"):
        corpora.load("manifest", path)
    df = corpora.load("manifest", path, missing="skip")
    assert len(df) == 7 and len(df.attrs["skipped"]) == 2
    assert df.attrs["skipped"][0][1] == "line 9: no such file"
    with pytest.raises(ConfigError, match="missing"):
        corpora.load("manifest", path, missing="ignore")


def test_unknown_label_names_the_row(tmp_path):
    path = make_manifest_file(tmp_path)
    text = path.read_text().replace("happy", "joyful")
    path.write_text(text)
    with pytest.raises(CorpusError, match=r"line 3 \(audio/ann/ann_02.wav\).*'joyful'"):
        corpora.load("manifest", path)
    df = corpora.load("manifest", path, raw_label_map={"joyful": "happy"})
    assert df.set_index("id").loc["ann_02"].raw_label == "joyful"
    assert df.set_index("id").loc["ann_02"].label == "happy"


def test_required_columns_and_values(tmp_path):
    make_manifest_file(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("file,emotion\naudio/ann/ann_02.wav,happy\n")
    with pytest.raises(CorpusError, match=r"lacks the column\(s\) path, label"):
        corpora.load("manifest", bad)
    bad.write_text("path,label\naudio/ann/ann_02.wav,\n")
    with pytest.raises(CorpusError, match=r"line 2 .*no label"):
        corpora.load("manifest", bad)
    bad.write_text("path,label,gender\naudio/ann/ann_02.wav,sad,robot\n")
    with pytest.raises(CorpusError, match="gender 'robot'"):
        corpora.load("manifest", bad)
    bad.write_text("id,path,label\nx,audio/ann/ann_02.wav,sad\nx,audio/ann/ann_03.wav,sad\n")
    with pytest.raises(CorpusError, match="duplicate ids"):
        corpora.load("manifest", bad)
    bad.write_text('[{"path": "audio/ann/ann_02.wav", "label": "sad"}, 3]')
    with pytest.raises(CorpusError, match="list of objects"):
        corpora.load("manifest", bad.rename(tmp_path / "bad.json"))
    (tmp_path / "broken.json").write_text('[{"path": ')
    with pytest.raises(CorpusError, match="cannot parse"):
        corpora.load("manifest", tmp_path / "broken.json")


def test_root_must_be_a_file(tmp_path):
    with pytest.raises(CorpusError, match="got a folder"):
        corpora.load("manifest", tmp_path)
    with pytest.raises(CorpusError, match="no such manifest file"):
        corpora.load("manifest", tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("path,label\n")
    with pytest.raises(CorpusError, match="no manifest utterances"):
        corpora.load("manifest", tmp_path / "empty.csv")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_absolute_paths_and_an_exported_manifest_round_trip(tmp_path, fmt):
    original = corpora.load("folder", make_folder_corpus(tmp_path / "data"),
                            speaker_pattern=r"^(?P<speaker>spk\d)_")
    export = tmp_path / "elsewhere" / f"export.{fmt}"
    export.parent.mkdir()
    if fmt == "csv":
        original.to_csv(export)  # with its index, as people do
    else:
        export.write_text(json.dumps(original.to_dict("records")))
    again = corpora.load("manifest", export)
    cols = ["id", "path", "label", "speaker", "gender", "raw_label"]
    pd.testing.assert_frame_equal(again[cols], original[cols])
    assert set(again.source_corpus) == {"folder"} and set(again.corpus) == {"manifest"}
    assert list(again.columns) == [*cols[:5], "corpus", "raw_label", "source_corpus"]
