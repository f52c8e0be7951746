"""The data check on a fake corpus seeded with every kind of bad file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoscope.cli import main
from emoscope.doctor import check_corpus, inspect_file, wav_truncation
from emoscope.errors import CorpusError
from emoscope.testing import noise, tone, write_audio
from emoscope.testing.corpora.tess import make_tess

SR = 16000


@pytest.fixture
def seeded(tmp_path):
    """A fake TESS with one file of each problem, named by the TESS scheme."""
    root = make_tess(tmp_path / "TESS", words=("back", "bar"))
    d = root / "TESS_Toronto_emotional_speech_set_data" / "YAF_angry"
    (d / "YAF_empty_angry.wav").write_bytes(b"")
    (d / "YAF_text_angry.wav").write_text("not audio\n" * 50)
    write_audio(d / "YAF_quiet_angry.wav", np.zeros(SR, np.float32), SR)
    write_audio(d / "YAF_loud_angry.wav", np.clip(noise(amplitude=1.0), -1, 1), SR)
    write_audio(d / "YAF_germ_angry.wav", tone(330), SR, format="AIFF")
    write_audio(d / "YAF_lowrate_angry.wav", tone(200, sr=8000), 8000)
    write_audio(d / "YAF_stereo_angry.wav", np.stack([tone(300), tone(300)]), SR)
    whole = write_audio(d / "YAF_whole_angry.wav", tone(250, seconds=2.0), SR)
    data = whole.read_bytes()
    (d / "YAF_cut_angry.wav").write_bytes(data[: len(data) // 2])
    dup_src = d / "YAF_back_angry.wav"
    (d / "YAF_copy_angry.wav").write_bytes(dup_src.read_bytes())
    write_audio(d / "YAF_blip_angry.wav", tone(440, seconds=0.05), SR)
    write_audio(d / "not_a_tess_name.wav", tone(500), SR)
    return root


def codes(report):
    out: dict[str, set[str]] = {}
    for p in report.problems:
        out.setdefault(p.path.rsplit("/", 1)[-1], set()).add(p.code)
    return out


def test_every_problem_is_found_and_the_batch_goes_on(seeded):
    rep = check_corpus(seeded, corpus="tess", progress=False, workers=2)
    c = codes(rep)
    assert c["YAF_empty_angry.wav"] == {"empty"}
    assert c["YAF_text_angry.wav"] == {"unreadable"}
    assert c["YAF_quiet_angry.wav"] == {"silent"}
    assert "clipped" in c["YAF_loud_angry.wav"]
    assert c["YAF_germ_angry.wav"] == {"format-mismatch"}
    assert c["YAF_lowrate_angry.wav"] == {"unusual-rate"}
    assert c["YAF_stereo_angry.wav"] == {"unusual-channels"}
    assert "truncated" in c["YAF_cut_angry.wav"]
    assert c["YAF_copy_angry.wav"] == {"duplicate"} == c["YAF_back_angry.wav"]
    assert c["YAF_blip_angry.wav"] == {"too-short"}
    assert c["not_a_tess_name.wav"] == {"naming"}
    assert [sorted(p.rsplit("/", 1)[-1] for p in g) for g in rep.duplicates] == [
        ["YAF_back_angry.wav", "YAF_copy_angry.wav"]]
    # the good files are all there and readable
    s = rep.summary()
    assert s["files"] == 28 + 12 and s["unreadable"] == 2
    assert {p.severity for p in rep.problems if p.code in ("empty", "unreadable", "truncated")} \
        == {"error"}
    assert rep.counts()["speakers"]["OAF"] == 14


def test_corpus_is_detected(seeded):
    rep = check_corpus(seeded, progress=False)
    assert rep.corpus == "tess"
    assert rep.counts()["labels"]["angry"] > 0


def test_json_output_and_strict_exit(seeded, capsys):
    assert main(["doctor", str(seeded), "--corpus", "tess", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["corpus"] == "tess"
    assert data["summary"]["problems"]["duplicate"] == 2
    assert {"path", "code", "severity", "message"} <= set(data["problems"][0])
    assert main(["doctor", str(seeded), "--corpus", "tess", "--strict", "--json"]) == 1


def test_table_output(seeded, capsys):
    assert main(["doctor", str(seeded), "--corpus", "tess"]) == 0
    text = capsys.readouterr().out
    assert "identical audio" in text and "format-mismatch" in text and "OAF" in text


def test_not_a_folder(tmp_path, capsys):
    assert main(["doctor", str(tmp_path / "nope")]) == 1
    assert "no such folder" in capsys.readouterr().err
    with pytest.raises(CorpusError, match="no audio or video files"):
        check_corpus(tmp_path, progress=False)


def test_inspect_values(tmp_path):
    p = write_audio(tmp_path / "a.wav", tone(440, seconds=1.0, amplitude=0.5), SR)
    r = inspect_file(p)
    assert r.readable and r.problems == []
    assert r.peak == pytest.approx(0.5, abs=1e-3)
    assert r.rms_dbfs == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)
    assert r.duration == pytest.approx(1.0)
    assert wav_truncation(p) is None
