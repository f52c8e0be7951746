"""The exploration report on the real TESS (../shared/data/TESS): every plot, right numbers."""

from __future__ import annotations

import re
import time

import pytest
from matplotlib.image import imread

from emoscope.report import explore

pytestmark = pytest.mark.integration

LABELS = ["angry", "disgust", "fearful", "happy", "neutral", "surprised", "sad"]
FIGURES = ["class_counts", "speakers", "durations", "label_by_speaker", "waveforms",
           "spectrograms"]


@pytest.fixture(scope="module")
def tess_report(shared_data, tmp_path_factory):
    root = shared_data / "TESS"
    if not root.is_dir():
        pytest.skip(f"absent: {root}")
    t0 = time.perf_counter()
    result = explore(root, out_dir=tmp_path_factory.mktemp("explore_tess"), progress=False)
    return result, time.perf_counter() - t0


def test_tess_report_is_complete_and_fast(tess_report):
    result, seconds = tess_report
    assert seconds < 30, f"explore took {seconds:.1f} s"
    assert list(result.figures) == FIGURES
    html = result.html.read_text(encoding="utf-8")
    assert sorted(re.findall(r'<img src="([^"]+)"', html)) == sorted(f"{f}.png" for f in FIGURES)
    for png in result.pngs:
        img = imread(png)
        assert img.shape[0] >= 250 and img.shape[1] >= 500 and img.std() > 0.01, png.name


def test_tess_summary(tess_report):
    s = tess_report[0].summary
    assert s["corpus"] == "tess"
    assert s["files"] == 2798 and s["unreadable"] == 0 and s["not_placed"] == 0
    assert s["speakers"] == 2 and s["speakers_by_gender"] == {"female": 2}
    assert s["labels"] == LABELS
    assert s["label_counts"] == dict.fromkeys(LABELS, 400) | {"angry": 399, "sad": 399}
    assert s["label_by_speaker"]["OAF"]["angry"] == 199
    assert s["label_by_speaker"]["YAF"]["sad"] == 199
    assert s["sample_rates"] == {16000: 2798} and s["channels"] == {1: 2798}
    assert 1.4 < s["total_hours"] < 1.8
    d = s["duration_s"]
    assert 1.0 < d["min"] < d["median"] < d["max"] < 4.0


def test_tess_examples_and_html_tables(tess_report):
    result, _ = tess_report
    assert [e["label"] for e in result.examples] == LABELS  # one per emotion, all 7
    html = result.html.read_text(encoding="utf-8")
    for row in ("corpus", "root", "files", "speakers", "labels", "total duration",
                "duration min / median / max", "sample rates"):
        assert f"<th>{row}</th>" in html
    assert "<td>OAF</td><td>female</td>" in html and "<td>YAF</td><td>female</td>" in html
    for e in result.examples:
        assert e["id"] in html
