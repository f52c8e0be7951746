"""SAVEE loader on fake trees in both common layouts."""

from __future__ import annotations

import pytest

from emoscope import corpora
from emoscope.errors import ConfigError, CorpusError
from emoscope.testing.corpora.common import fake_utterance
from emoscope.testing.corpora.cremad import fake_recording
from emoscope.testing.corpora.savee import make_savee


@pytest.mark.parametrize("ext", [".wav", ".flac"])
@pytest.mark.parametrize("layout", ["audiodata", "flat"])
def test_fake_tree(tmp_path, layout, ext):
    root = make_savee(tmp_path, layout=layout, ext=ext)
    df = corpora.load("savee", root)
    assert len(df) == 4 * 7 * 2
    assert df.path.str.endswith(ext).all()
    assert set(df.label.value_counts()) == {8}
    assert df.attrs["labels"] == ["angry", "disgust", "fearful", "happy", "neutral", "sad",
                                  "surprised"]
    assert df.groupby("speaker").size().to_dict() == {"DC": 14, "JE": 14, "JK": 14, "KL": 14}
    assert set(df.gender) == {"male"}
    r = df.set_index("id").loc["JK_sa02"]
    assert (r.label, r.raw_label, r.speaker, r.text_id) == ("sad", "sa", "JK", "sa02")
    assert df.set_index("id").loc["KL_su01"].label == "surprised"
    assert df.attrs["skipped"] == []


def test_both_layouts_give_the_same_manifest(tmp_path):
    a = corpora.load("savee", make_savee(tmp_path / "a", layout="audiodata", speakers=("DC",)))
    b = corpora.load("savee", make_savee(tmp_path / "b", layout="flat", speakers=("DC",)))
    cols = ["id", "label", "speaker", "gender", "raw_label", "text_id"]
    assert a[cols].equals(b[cols])


def test_odd_names_are_skipped(tmp_path):
    root = make_savee(tmp_path, speakers=("JE",), numbers=(1,))
    data = root / "AudioData"
    fake_utterance(data / "JE" / "n30")  # neutral goes up to 30
    for rel in ("JE/a16", "JE/x01", "XY/a01", "JE/readme", "JE/n31"):
        fake_utterance(data / rel)
    fake_utterance(root / "ALL" / "ZZ_h01")
    fake_utterance(data / "AudioData" / "JE" / "a01")  # a nested duplicate from a bad unzip
    df = corpora.load("savee", root)
    assert len(df) == 8
    skipped = dict(df.attrs["skipped"])
    assert len(skipped) == 7
    assert sum("unknown SAVEE speaker" in reason for reason in skipped.values()) == 2
    assert sum("another copy" in reason for reason in skipped.values()) == 1


def test_audio_visual_clips(tmp_path):
    root = make_savee(tmp_path, speakers=("KL",), numbers=(1,))
    fake_recording(root / "AudioVisualClip" / "KL" / "h01.avi")
    fake_recording(root / "AudioVisualClip" / "KL" / "h02.avi")  # no audio twin
    df = corpora.load("savee", root).set_index("id")
    assert len(df) == 8
    assert df.loc["KL_h01"].path.endswith("h01.wav")
    assert df.loc["KL_h01"].video_path.endswith("AudioVisualClip/KL/h01.avi")
    assert df.loc["KL_h02"].path.endswith("h02.avi") and df.loc["KL_h02"].modality == \
        "audio-visual"
    assert len(corpora.load("savee", root, modality="audio")) == 7
    with pytest.raises(ConfigError):
        corpora.load("savee", root, modality="video only")


def test_wrong_folder(tmp_path):
    fake_utterance(tmp_path / "clips" / "hello")
    with pytest.raises(CorpusError, match=r"no savee utterances found \(1 media files"):
        corpora.load("savee", tmp_path)
