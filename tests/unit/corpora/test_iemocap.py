"""IEMOCAP loader on a fake release with the real layout and file formats."""

from __future__ import annotations

import pytest

from emoscope import corpora
from emoscope.errors import ConfigError, CorpusError
from emoscope.testing.corpora.common import fake_utterance
from emoscope.testing.corpora.iemocap import make_iemocap, transcript_of, utterance_times

# The fake has per session: impro (neu hap exc sad ang xxx fru), script (ang exc neu sad sur oth
# xxx): 14 evaluated utterances, 12 with a category.


@pytest.fixture(scope="module")
def iemocap_root(tmp_path_factory):
    return make_iemocap(tmp_path_factory.mktemp("iemocap"), sessions=(1, 2))


def test_all_categories(iemocap_root):
    df = corpora.load("iemocap", iemocap_root)
    assert len(df) == 24
    assert "xxx" not in set(df.raw_label)
    assert df.raw_label.value_counts().to_dict() == {
        "neu": 4, "exc": 4, "sad": 4, "ang": 4, "hap": 2, "fru": 2, "sur": 2, "oth": 2}
    assert df.groupby("speaker").size().to_dict() == {
        "Ses01_F": 7, "Ses01_M": 5, "Ses02_F": 7, "Ses02_M": 5}
    assert df.groupby("speaker").gender.first().to_dict() == {
        "Ses01_F": "female", "Ses01_M": "male", "Ses02_F": "female", "Ses02_M": "male"}
    assert df.session.value_counts().to_dict() == {1: 12, 2: 12}
    assert df.attrs["labels"] == ["neutral", "happy", "sad", "angry", "frustrated", "excited",
                                  "surprised", "other"]
    assert df.attrs["skipped"] == []  # whole-dialog wavs and Categorical/ are not read
    assert df.video_path.isna().all()


def test_parsed_fields(iemocap_root):
    df = corpora.load("iemocap", iemocap_root).set_index("id")
    r = df.loc["Ses01F_impro01_F000"]
    assert (r.label, r.raw_label, r.speaker, r.session, r.dialog, r.improvised) == (
        "neutral", "neu", "Ses01_F", 1, "Ses01F_impro01", True)
    assert (r.dialog_start, r.dialog_end) == utterance_times(0) == (1.2901, 3.2357)
    assert (r.valence, r.activation, r.dominance) == (3.0, 2.0, 4.0)
    assert r.transcript == transcript_of("Ses01F_impro01_F000")
    assert r.path.endswith("Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav")
    # the speaker is the utterance's letter, not the dialog's
    s = df.loc["Ses02M_script01_1_F001"]
    assert (s.speaker, s.gender, s.improvised, s.label) == ("Ses02_F", "female", False,
                                                            "excited")
    assert (s.dialog_start, s.dialog_end) == utterance_times(1)
    assert (s.valence, s.activation, s.dominance) == (2.5, 3.0, 3.5)
    assert df.loc["Ses01M_script01_1_F005"].label == "other"


def test_label_sets(iemocap_root):
    four = corpora.load("iemocap", iemocap_root, label_set="4class")
    assert four.attrs["labels"] == ["neutral", "happy", "sad", "angry"]
    assert "excited" not in set(four.label) and len(four) == 18
    assert four.label.value_counts().to_dict() == {"happy": 6, "neutral": 4, "sad": 4,
                                                   "angry": 4}
    assert four[four.label == "happy"].raw_label.value_counts().to_dict() == {"exc": 4, "hap": 2}
    three = corpora.load("iemocap", iemocap_root, label_set="3class")
    assert three.attrs["labels"] == ["angry", "happy", "sad"] and len(three) == 14
    # any other subset through load()
    two = corpora.load("iemocap", iemocap_root, labels=["ang", "neu"])
    assert two.attrs["labels"] == ["angry", "neutral"] and len(two) == 8
    merged = corpora.load("iemocap", iemocap_root, labels=["hap", "fru"],
                          label_map={"exc": "hap"})
    assert merged.label.value_counts().to_dict() == {"happy": 6, "frustrated": 2}
    with pytest.raises(ConfigError, match="label_set"):
        corpora.load("iemocap", iemocap_root, label_set="5class")


def test_unlabeled_kept_on_request(iemocap_root):
    df = corpora.load("iemocap", iemocap_root, keep_unlabeled=True)
    assert len(df) == 28
    xxx = df[df.raw_label == "xxx"]
    assert len(xxx) == 4 and set(xxx.label) == {"other"}


def test_sessions_and_improvised(iemocap_root):
    two = corpora.load("iemocap", iemocap_root, sessions=[2])
    assert len(two) == 12 and set(two.session) == {2} and set(two.speaker) == {"Ses02_F",
                                                                                "Ses02_M"}
    impro = corpora.load("iemocap", iemocap_root, improvised=True)
    assert len(impro) == 12 and impro.improvised.all()
    assert set(impro.raw_label) == {"neu", "hap", "exc", "sad", "ang", "fru"}
    scripted = corpora.load("iemocap", iemocap_root, improvised=False)
    assert len(scripted) == 12 and not scripted.improvised.any()
    with pytest.raises(CorpusError, match=r"session\(s\) \[3\]"):
        corpora.load("iemocap", iemocap_root, sessions=[1, 3])
    with pytest.raises(ConfigError, match="1-5"):
        corpora.load("iemocap", iemocap_root, sessions=[6])


@pytest.mark.parametrize("where", ["parent", "release", "session"])
def test_root_at_any_level(iemocap_root, where):
    root = {"parent": iemocap_root, "release": iemocap_root / "IEMOCAP_full_release",
            "session": iemocap_root / "IEMOCAP_full_release" / "Session2"}[where]
    df = corpora.load("iemocap", root)
    assert len(df) == (12 if where == "session" else 24)


def test_missing_and_unevaluated_audio(tmp_path):
    root = make_iemocap(tmp_path, sessions=(3,), ext=".flac", video=True)
    wav = root / "IEMOCAP_full_release" / "Session3" / "sentences" / "wav"
    (wav / "Ses03F_impro01" / "Ses03F_impro01_M003.flac").unlink()
    fake_utterance(wav / "Ses03F_impro01" / "Ses03F_impro01_M099", ext=".flac")
    df = corpora.load("iemocap", root)
    assert len(df) == 11 and df.path.str.endswith(".flac").all()
    skipped = dict(df.attrs["skipped"])
    assert len(skipped) == 2
    missing = next(p for p, r in skipped.items() if "without an audio file" in r)
    assert missing.endswith("Ses03F_impro01_M003.wav")
    assert any(p.endswith("Ses03F_impro01_M099.flac") and "no EmoEvaluation" in r
               for p, r in skipped.items())
    assert all(v.endswith(f"/DivX/{d}.avi") for v, d in zip(df.video_path, df.dialog,
                                                            strict=True))


def test_wrong_folders(tmp_path):
    with pytest.raises(CorpusError, match="no IEMOCAP Session"):
        corpora.load("iemocap", tmp_path)
    (tmp_path / "Session1" / "sentences" / "wav").mkdir(parents=True)
    with pytest.raises(CorpusError, match="EmoEvaluation"):
        corpora.load("iemocap", tmp_path)
    with pytest.raises(CorpusError, match="no such folder"):
        corpora.load("iemocap", tmp_path / "nope")
