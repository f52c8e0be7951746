"""Late fusion of two runs' predictions (emoscope.evaluate.fusion and `emoscope fuse`)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from emoscope.cli import main
from emoscope.errors import ConfigError
from emoscope.evaluate.fusion import late_fusion_scores

LABELS = ["angry", "happy", "sad"]


def _write(path, rows, labels=LABELS):
    """rows: (fold, id, true, probabilities)."""
    df = pd.DataFrame([{"fold": f, "id": i, "speaker": "01", "true": t,
                        "predicted": labels[max(range(len(p)), key=p.__getitem__)],
                        **{f"p_{lab}": v for lab, v in zip(labels, p, strict=True)}}
                       for f, i, t, p in rows])
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def pair(tmp_path):
    # Fold 1: run A is right on c1, c2, wrong on c3; run B is right on c3 only, and confident.
    # Fold 2: both right on c4; A wrong and B right on c5 (the mean follows B).
    a = _write(tmp_path / "a.csv", [
        (1, "c1", "angry", [0.6, 0.3, 0.1]),
        (1, "c2", "happy", [0.2, 0.7, 0.1]),
        (1, "c3", "sad", [0.5, 0.1, 0.4]),
        (2, "c4", "angry", [0.9, 0.05, 0.05]),
        (2, "c5", "sad", [0.4, 0.3, 0.3]),
    ])
    b = _write(tmp_path / "b.csv", [
        (1, "c1", "angry", [0.3, 0.4, 0.3]),
        (1, "c2", "happy", [0.4, 0.3, 0.3]),
        (1, "c3", "sad", [0.1, 0.1, 0.8]),
        (2, "c4", "angry", [0.8, 0.1, 0.1]),
        (2, "c5", "sad", [0.1, 0.1, 0.8]),
        (2, "only-in-b", "sad", [0.1, 0.1, 0.8]),
    ])
    return a, b


def test_equal_weights_fix_what_each_run_gets_wrong(pair):
    s = late_fusion_scores(*pair)
    assert s["n"] == 5 and s["n_folds"] == 2  # the clip only B predicted is left out
    # Mean probabilities: c1 angry (.45), c2 happy (.5), c3 sad (.6), c4 angry, c5 sad (.55).
    assert [f["wa"] for f in s["folds"]] == [1.0, 1.0]
    assert s["ua"] == pytest.approx(1.0) and s["ua_std"] == pytest.approx(0.0)


def test_the_weight_selects_a_run(pair):
    only_a = late_fusion_scores(*pair, weight=1.0)
    # A alone: fold 1 gets c1, c2 right and c3 wrong (recall angry 1, happy 1, sad 0 -> UA 2/3);
    # fold 2 gets c4 right, c5 wrong (recall angry 1, sad 0; happy absent -> UA 1/2).
    assert only_a["folds"][0]["wa"] == pytest.approx(2 / 3)
    assert only_a["folds"][1]["wa"] == pytest.approx(1 / 2)
    only_b = late_fusion_scores(*pair, weight=0.0)
    assert only_b["folds"][0]["wa"] == pytest.approx(1 / 3)  # B gets only c3 right in fold 1
    assert only_b["folds"][1]["wa"] == pytest.approx(1.0)


def test_bad_inputs_raise_config_errors(pair, tmp_path):
    a, b = pair
    with pytest.raises(ConfigError, match="weight"):
        late_fusion_scores(a, b, weight=1.5)
    other = _write(tmp_path / "other.csv", [(1, "c1", "angry", [0.5, 0.5])], ["angry", "calm"])
    with pytest.raises(ConfigError, match="different labels"):
        late_fusion_scores(a, other)
    disjoint = _write(tmp_path / "disjoint.csv", [(1, "x", "sad", [0.1, 0.1, 0.8])])
    with pytest.raises(ConfigError, match="no test clip in common"):
        late_fusion_scores(a, disjoint)
    clash = _write(tmp_path / "clash.csv", [(1, "c1", "sad", [0.1, 0.1, 0.8])])
    with pytest.raises(ConfigError, match="true label of 'c1'"):
        late_fusion_scores(a, clash)
    (tmp_path / "junk.csv").write_text("hello,world\n1,2\n")
    with pytest.raises(ConfigError, match=r"not a predictions\.csv"):
        late_fusion_scores(a, tmp_path / "junk.csv")
    with pytest.raises(ConfigError, match="cannot read"):
        late_fusion_scores(a, tmp_path / "missing.csv")
    (tmp_path / "binary.csv").write_bytes(bytes(range(128, 256)) * 4)
    with pytest.raises(ConfigError, match="cannot read"):
        late_fusion_scores(a, tmp_path / "binary.csv")


def test_cli_takes_run_folders_and_prints_json(pair, tmp_path, capsys):
    a, b = pair
    run = tmp_path / "run-a"
    run.mkdir()
    (run / "predictions.csv").write_text(a.read_text())
    assert main(["fuse", str(run), str(b), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ua"] == pytest.approx(1.0)
    assert main(["fuse", str(run), str(tmp_path / "missing.csv")]) == 1
    assert "error: cannot read predictions" in capsys.readouterr().err
