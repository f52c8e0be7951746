"""The corpus exploration report on fake corpora: files written, numbers right, plots sane."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from emoscope.errors import ConfigError, CorpusError
from emoscope.report import (
    Example,
    ReportFigure,
    choose_examples,
    class_counts,
    duration_histogram,
    explore,
    label_speaker_heatmap,
    measure_durations,
    render_report,
    save_figure,
    speaker_counts,
    spectrogram_grid,
    waveform_grid,
)
from emoscope.testing import speechlike, write_audio
from emoscope.testing.corpora.ravdess import make_ravdess
from emoscope.testing.corpora.tess import make_tess

TESS_LABELS = ["angry", "disgust", "fearful", "happy", "neutral", "surprised", "sad"]
FIGURES = ["class_counts", "speakers", "durations", "label_by_speaker", "waveforms",
           "spectrograms"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk; fails unless the file is a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def tess_report(tmp_path_factory):
    """Explore a fake TESS (2 words: 28 files) plus one corrupt file named by the scheme."""
    tmp = tmp_path_factory.mktemp("tess")
    root = make_tess(tmp / "TESS", words=("back", "bar"), seconds=0.4)
    corrupt = (root / "TESS_Toronto_emotional_speech_set_data" / "YAF_angry"
               / "YAF_broken_angry.wav")
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + b"\x07" * 300)
    # one longer file, so that the durations are not all equal
    write_audio(root / "TESS_Toronto_emotional_speech_set_data" / "OAF_Sad" / "OAF_long_sad.wav",
                speechlike(seconds=1.2, seed=3), 16000)
    result = explore(root, corpus="tess", out_dir=tmp / "out", workers=2, progress=False)
    return result, root, corrupt


def test_report_and_every_png_are_written(tess_report):
    result, _, _ = tess_report
    assert result.html.is_file() and result.html.name == "report.html"
    assert list(result.figures) == FIGURES
    html = result.html.read_text(encoding="utf-8")
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert sorted(srcs) == sorted(p.name for p in result.pngs)
    for png in result.pngs:
        assert png.parent == result.html.parent and png.is_file()
        w, h = png_size(png)
        assert 300 <= w <= 3000 and 200 <= h <= 3000, (png.name, w, h)
        img = imread(png)
        assert img.shape[:2] == (h, w) and img.std() > 0.01  # decodes, and is not blank
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html


def test_summary_numbers(tess_report):
    result, root, _ = tess_report
    s = result.summary
    assert s["corpus"] == "tess"
    assert s["root"] == str(root.resolve())
    assert s["files"] == 29 and s["unreadable"] == 1 and s["not_placed"] == 0
    assert s["speakers"] == 2 and s["speakers_by_gender"] == {"female": 2}
    assert s["labels"] == TESS_LABELS
    expected = dict.fromkeys(TESS_LABELS, 4) | {"sad": 5, "angry": 4}
    assert s["label_counts"] == expected
    assert s["label_by_speaker"]["YAF"]["angry"] == 2  # the corrupt one is not counted
    assert s["label_by_speaker"]["OAF"]["sad"] == 3
    assert s["duration_s"]["min"] == pytest.approx(0.4, abs=1e-3)
    assert s["duration_s"]["median"] == pytest.approx(0.4, abs=1e-3)
    assert s["duration_s"]["max"] == pytest.approx(1.2, abs=1e-3)
    assert s["total_hours"] == pytest.approx((28 * 0.4 + 1.2) / 3600, abs=1e-4)
    assert s["sample_rates"] == {16000: 29} and s["channels"] == {1: 29}
    assert len(result.manifest) == 29 and result.manifest["duration"].notna().all()
    assert json.loads(json.dumps(result.to_dict()))["summary"]["files"] == 29


def test_corrupt_file_is_skipped_and_listed(tess_report):
    result, _, corrupt = tess_report
    assert [p for p, _ in result.bad_files] == [str(corrupt.resolve())]
    assert result.bad_files[0][1]  # a reason
    assert str(corrupt.resolve()) not in set(result.manifest["path"])
    html = result.html.read_text(encoding="utf-8")
    assert "Unreadable files (1)" in html and "YAF_broken_angry.wav" in html


def test_examples_one_per_label_closest_to_median(tess_report):
    result, _, _ = tess_report
    assert [e["label"] for e in result.examples] == TESS_LABELS
    sad = next(e for e in result.examples if e["label"] == "sad")
    assert sad["id"] != "OAF_long_sad"  # the odd one out is never the median example
    html = result.html.read_text(encoding="utf-8")
    for e in result.examples:
        assert e["id"] in html


def test_summary_table_and_label_by_speaker_table_in_html(tess_report):
    html = tess_report[0].html.read_text(encoding="utf-8")
    for row in ("corpus", "root", "files", "speakers", "labels", "total duration",
                "duration min / median / max", "sample rates"):
        assert f"<th>{row}</th>" in html
    assert "16000 Hz: 29" in html
    assert '<tr><th>root</th><td class="path">' in html
    assert "<td>OAF</td><td>female</td>" in html


def test_ravdess_detected_with_two_examples_per_label(tmp_path):
    root = make_ravdess(tmp_path / "RAVDESS", actors=(1, 2), emotions=(1, 3, 5), seconds=0.3)
    result = explore(root, out_dir=tmp_path / "out", progress=False,
                     max_examples_per_label=2)
    s = result.summary
    assert s["corpus"] == "ravdess"
    assert s["files"] == 2 * (2 + 4 + 4) and s["speakers"] == 2
    assert s["speakers_by_gender"] == {"female": 1, "male": 1}
    assert s["genders"] == {"female": 10, "male": 10}
    assert s["labels"] == ["neutral", "happy", "angry"]
    assert [e["label"] for e in result.examples] == ["neutral"] * 2 + ["happy"] * 2 + \
        ["angry"] * 2
    assert len({e["id"] for e in result.examples}) == 6
    assert all(p.is_file() for p in result.pngs) and len(result.pngs) == 6


def test_nothing_recognised_is_a_corpus_error(tmp_path):
    write_audio(tmp_path / "corpus" / "hello.wav", speechlike(seconds=0.2), 16000)
    with pytest.raises(CorpusError, match="no known corpus"):
        explore(tmp_path / "corpus", out_dir=tmp_path / "out", progress=False)
    with pytest.raises(CorpusError):
        explore(tmp_path / "absent", out_dir=tmp_path / "out", progress=False)


def test_bad_options(tmp_path):
    root = make_tess(tmp_path / "TESS", words=("back",), seconds=0.2)
    with pytest.raises(ConfigError):
        explore(root, corpus="tess", out_dir=tmp_path / "o", max_examples_per_label=0)
    with pytest.raises(ConfigError):
        explore(root, corpus="tess", out_dir=tmp_path / "o", workers=0, progress=False)


def test_only_unreadable_files_still_writes_a_report(tmp_path):
    d = tmp_path / "TESS" / "OAF_angry"
    d.mkdir(parents=True)
    (d / "OAF_back_angry.wav").write_bytes(b"")
    (d / "OAF_bar_angry.wav").write_text("not audio\n" * 20)
    result = explore(tmp_path / "TESS", corpus="tess", out_dir=tmp_path / "out", progress=False)
    assert result.html.is_file() and result.figures == {}
    assert result.summary["files"] == 0 and result.summary["unreadable"] == 2
    assert "Unreadable files (2)" in result.html.read_text(encoding="utf-8")


def test_user_manifest_strings_are_escaped(tmp_path):
    audio = tmp_path / "audio"
    rows = []
    for i, (lab, spk) in enumerate([("angry", "<script>alert(1)</script>"),
                                    ("happy", "<script>alert(1)</script>"),
                                    ("angry", "bob & <b>al</b>")]):
        write_audio(audio / f"u{i}.wav", speechlike(seconds=0.3, seed=i), 16000)
        rows.append({"path": f"audio/u{i}.wav", "label": lab, "speaker": spk})
    pd.DataFrame(rows).to_csv(tmp_path / "list.csv", index=False)
    result = explore(tmp_path / "list.csv", corpus="manifest", out_dir=tmp_path / "out",
                     progress=False)
    html = result.html.read_text(encoding="utf-8")
    assert "<script>" not in html and "<b>al</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "bob &amp; &lt;b&gt;" in html
    assert result.summary["speakers"] == 2


# ---------------------------------------------------------------- the HTML writer on its own

def test_render_report_escapes_every_user_string():
    evil = '<script>alert("x")</script>'
    table = pd.DataFrame({"gender": ["female"], evil: [3]}, index=[evil])
    html = render_report(
        summary={"corpus": evil, "root": evil, "files": 3, "speakers": 1, "labels": [evil],
                 "label_counts": {evil: 3}},
        figures=[ReportFigure("a b.png", evil, evil)],
        label_by_speaker=table,
        examples=[{"label": evil, "id": evil, "duration": 1.0, "path": evil}],
        bad_files=[(evil, evil)], skipped=[(evil, evil)], notes=[evil],
    )
    assert "<script" not in html
    assert html.count("&lt;script&gt;") >= 10
    assert "=&#34;" not in html  # the template's own attributes are not escaped
    assert '<img src="a%20b.png"' in html


def test_render_report_refuses_absolute_figure_paths():
    with pytest.raises(ConfigError):
        render_report(summary={}, figures=[ReportFigure("/tmp/x.png", "x")])
    with pytest.raises(ConfigError):
        render_report(summary={}, figures=[ReportFigure("../x.png", "x")])


# ---------------------------------------------------------------- the figure functions

def fake_manifest() -> pd.DataFrame:
    """3 labels x 3 speakers (2 female, 1 male), unequal counts; no audio."""
    rows = []
    plan = {("s1", "female"): {"sad": 1, "angry": 2, "happy": 3},
            ("s2", "female"): {"sad": 2, "angry": 0, "happy": 1},
            ("s10", "male"): {"sad": 4, "angry": 1, "happy": 0}}
    for (spk, gender), counts in plan.items():
        for lab, n in counts.items():
            for k in range(n):
                rows.append(dict(id=f"{spk}-{lab}-{k}", path=f"/x/{spk}{lab}{k}.wav", label=lab,
                                 speaker=spk, gender=gender, corpus="fake",
                                 duration=1.0 + k + (spk == "s10")))
    df = pd.DataFrame(rows)
    df.attrs["labels"] = ["sad", "angry", "happy"]
    return df


def test_class_counts_bars_in_label_order():
    df = fake_manifest()
    fig = class_counts(df)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert [round(p.get_height()) for p in ax.patches] == [7, 3, 4]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sad", "angry", "happy"]
    assert ax.get_title() and ax.get_ylabel() == "utterances"
    fig2 = class_counts(df, labels=["happy", "sad", "angry"])
    assert [round(p.get_height()) for p in fig2.axes[0].patches] == [4, 7, 3]


def test_speaker_counts_coloured_by_gender():
    fig = speaker_counts(fake_manifest())
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    spk_ax, gender_ax = fig.axes
    assert [t.get_text() for t in spk_ax.get_xticklabels()] == ["s1", "s2", "s10"]  # natural
    assert [round(p.get_height()) for p in spk_ax.patches[:3]] == [6, 3, 5]
    colours = [p.get_facecolor() for p in spk_ax.patches[:3]]
    assert colours[0] == colours[1] != colours[2]
    assert [t.get_text() for t in gender_ax.get_xticklabels()] == ["female", "male"]
    assert [round(p.get_height()) for p in gender_ax.patches] == [9, 5]


def test_duration_histogram_median_line_and_boxes_per_label():
    df = fake_manifest()
    fig = duration_histogram(df)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    hist_ax, box_ax = fig.axes
    assert sum(p.get_height() for p in hist_ax.patches) == len(df)
    median_line = next(ln for ln in hist_ax.get_lines() if ln.get_linestyle() == "--")
    assert median_line.get_xdata()[0] == pytest.approx(df["duration"].median())
    assert [t.get_text() for t in box_ax.get_yticklabels()] == ["sad", "angry", "happy"]
    with pytest.raises(ConfigError):
        duration_histogram(df.drop(columns="duration"))


def test_heatmap_shows_the_crosstab():
    fig = label_speaker_heatmap(fake_manifest())
    assert isinstance(fig, Figure) and len(fig.axes) == 2  # heatmap + colour bar
    data = fig.axes[0].get_images()[0].get_array()
    assert np.asarray(data).tolist() == [[1, 2, 3], [2, 0, 1], [4, 1, 0]]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["s1", "s2", "s10"]


def make_examples(per_label: int = 1) -> list[Example]:
    out = []
    for i, lab in enumerate(["neutral", "angry", "sad", "happy", "calm"]):
        for k in range(per_label):
            y = speechlike(seconds=0.5 + 0.1 * i, seed=i * 10 + k)
            out.append(Example(lab, f"{lab}-{k}", f"/x/{lab}{k}.wav", y, 16000, y.size / 16000))
    return out


@pytest.mark.parametrize("per_label", [1, 2])
def test_waveform_and_spectrogram_grids(per_label):
    ex = make_examples(per_label)
    fig = waveform_grid(ex)
    assert isinstance(fig, Figure) and len(fig.axes) == len(ex)
    assert all(ax.get_xlabel() == "time (s)" for ax in fig.axes)
    titles = [ax.get_title() for ax in fig.axes]
    assert all(e.label in t and e.id in t for e, t in zip(ex, titles, strict=True))
    fig = spectrogram_grid(ex)
    assert isinstance(fig, Figure) and len(fig.axes) == len(ex) + 1  # + the colour bar
    assert fig.axes[0].get_ylabel() == "frequency (Hz)"
    with pytest.raises(ConfigError):
        waveform_grid([])


def test_choose_examples_is_deterministic_and_median_first():
    df = fake_manifest()
    picks = choose_examples(df)
    assert list(picks) == ["sad", "angry", "happy"]
    shuffled = df.sample(frac=1, random_state=0).reset_index(drop=True)
    shuffled.attrs = dict(df.attrs)
    again = choose_examples(shuffled)
    for lab in picks:  # the same files, in the same order, whatever the row order
        assert df.loc[picks[lab], "id"].tolist() == shuffled.loc[again[lab], "id"].tolist()
    sad = df[df["label"] == "sad"]
    dist = (sad["duration"] - sad["duration"].median()).abs()
    assert dist[picks["sad"][0]] == dist.min()
    assert dist[picks["sad"]].is_monotonic_increasing
    with pytest.raises(ConfigError):
        choose_examples(df, per_label=0)


def test_save_figure_writes_a_png_and_leaves_no_pyplot_figure_open(tmp_path):
    import matplotlib.pyplot as plt

    out = save_figure(class_counts(fake_manifest()), tmp_path / "sub" / "c.png")
    assert png_size(out)[0] > 300
    fig, _ = plt.subplots()
    save_figure(fig, tmp_path / "p.png")
    assert plt.get_fignums() == []


def test_measure_durations_keeps_good_rows_and_lists_bad(tmp_path):
    good = write_audio(tmp_path / "a.wav", speechlike(seconds=0.25), 16000)
    bad = tmp_path / "b.wav"
    bad.write_text("nope")
    df = pd.DataFrame({"id": ["a", "b", "c"], "path": [str(good), str(bad),
                                                        str(tmp_path / "missing.wav")]})
    df.attrs["labels"] = ["x"]
    out, bad_rows = measure_durations(df, workers=2, progress=False)
    assert out["id"].tolist() == ["a"] and out.attrs["labels"] == ["x"]
    assert out["duration"].iloc[0] == pytest.approx(0.25)
    assert out["sample_rate"].iloc[0] == 16000
    assert [p for p, _ in bad_rows] == [str(bad), str(tmp_path / "missing.wav")]
