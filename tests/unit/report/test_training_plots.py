"""Training plots: confusion matrix, learning curves, scores per fold."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from emoscope.errors import ConfigError
from emoscope.report.figures import save_figure
from emoscope.report.training_plots import (
    confusion_matrix_figure,
    fold_bars_figure,
    layer_weights_figure,
    learning_curves_figure,
)

RAVDESS = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]


def confusion8(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cm = rng.integers(0, 12, (8, 8))
    cm[np.diag_indices(8)] = rng.integers(60, 120, 8)
    return cm


def history(n: int = 20, *, lr_steps: bool = True) -> list[dict]:
    rows = []
    for e in range(1, n + 1):
        rows.append({"epoch": e, "train_loss": 2.0 / e, "valid_loss": 1.0 + (e - 12) ** 2 / 100,
                     "valid_ua": 0.7 - (e - 12) ** 2 / 400,
                     "lr": 1e-3 * (0.5 ** (e // 8)) if lr_steps else 1e-3})
    return rows


def fake_results(n_folds: int = 6, *, leaky: bool = False) -> dict:
    rng = np.random.default_rng(1)
    folds = []
    for k in range(1, n_folds + 1):
        s = {key: float(v) for key, v in zip(("ua", "wa", "macro_f1"),
                                             0.55 + 0.1 * rng.random(3), strict=True)}
        folds.append({"fold": k, "name": f"fold-{k}", **s,
                      "ci95": {key: [v - 0.05, v + 0.05] for key, v in s.items()}})
    mean = {key: float(np.mean([f[key] for f in folds])) for key in ("ua", "wa", "macro_f1")}
    return {"protocol": "ravdess-si6", "leaky": leaky, "labels": RAVDESS, "folds": folds,
            "mean": mean, "std": {"ua": 0.04, "wa": 0.04, "macro_f1": 0.04}}


def test_confusion_matrix_normalized():
    cm = confusion8()
    fig = confusion_matrix_figure(cm, RAVDESS)
    assert isinstance(fig, Figure)
    ax, _colorbar = fig.axes  # heatmap and colour bar
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 64
    row = cm[2].sum()
    assert texts[2 * 8 + 2] == f"{100 * cm[2, 2] / row:.0f}%\n({cm[2, 2]})"
    np.testing.assert_allclose(ax.images[0].get_array().sum(axis=1), 100.0)
    assert ax.get_yticklabels()[0].get_text() == f"neutral ({cm[0].sum()})"
    assert "UA" in ax.get_title() and "WA" in ax.get_title()


def test_confusion_matrix_counts_zero_and_empty_rows():
    cm = np.array([[5, 0, 1], [0, 0, 0], [2, 0, 3]])
    fig = confusion_matrix_figure(cm, ["a", "b", "c"], normalize=False, title="counts")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["5", "0", "1", "", "", "", "2", "0", "3"]  # the empty row stays blank
    assert ax.get_title() == "counts"
    assert ax.images[0].get_array().max() == 5


@pytest.mark.parametrize(("cm", "labels"), [
    (np.ones((3, 3)), ["a", "b"]),
    (np.ones((2, 3)), ["a", "b"]),
    (-np.ones((2, 2)), ["a", "b"]),
    (np.ones((0, 0)), []),
])
def test_confusion_matrix_rejects(cm, labels):
    with pytest.raises(ConfigError):
        confusion_matrix_figure(cm, labels)


def test_learning_curves_marks_best_epoch():
    fig = learning_curves_figure(history())
    assert isinstance(fig, Figure)
    ax_loss, ax_ua, ax_lr = fig.axes  # learning rate on a twin axis: it changes
    assert ax_lr.get_yscale() == "log"
    best = [line for line in ax_ua.get_lines() if line.get_linestyle() == ":"]
    assert len(best) == 1 and best[0].get_xdata()[0] == 12
    assert any("best epoch 12" in t.get_text() for t in ax_ua.get_legend().get_texts())
    assert {line.get_label() for line in ax_loss.get_lines()} >= {"train", "valid"}
    valid_ua = next(line for line in ax_ua.get_lines() if line.get_label() == "valid UA")
    assert max(valid_ua.get_ydata()) == pytest.approx(70.0)  # shown in %


def test_learning_curves_constant_lr_and_partial_rows():
    rows = history(6, lr_steps=False)
    del rows[0]["valid_ua"]  # missing values are gaps
    assert len(learning_curves_figure(rows).axes) == 2
    no_ua = [{"train_loss": 1.0 / e, "valid_loss": abs(e - 3) + 1.0} for e in range(1, 6)]
    fig = learning_curves_figure(no_ua)  # best by valid loss; epochs from row positions
    best = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == ":"]
    assert best[0].get_xdata()[0] == 3


@pytest.mark.parametrize("rows", [[], [{"epoch": 1, "lr": 0.1}]])
def test_learning_curves_rejects(rows):
    with pytest.raises(ConfigError):
        learning_curves_figure(rows)


def test_fold_bars():
    res = fake_results(6)
    fig = fold_bars_figure(res)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.patches) == 18  # 3 scores x 6 folds
    heights = [p.get_height() for p in ax.patches]
    assert heights[:6] == pytest.approx([100 * f["ua"] for f in res["folds"]])
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"fold-{k}" for k in range(1, 7)]
    means = [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert means == pytest.approx([100 * res["mean"][k] for k in ("ua", "wa", "macro_f1")])
    assert len(ax.texts) == 18  # one value per bar
    assert "LEAKY" not in ax.get_title()


def test_fold_bars_leaky_single_fold_without_ci(tmp_path):
    res = fake_results(1, leaky=True)
    del res["folds"][0]["ci95"], res["mean"], res["std"]
    fig = fold_bars_figure(res)
    assert "LEAKY" in fig.axes[0].get_title()
    assert len(fig.axes[0].patches) == 3
    path = save_figure(fig, tmp_path / "folds.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("res", [{}, {"folds": []}, {"folds": [{"ua": 0.5, "wa": 0.5}]}])
def test_fold_bars_rejects(res):
    with pytest.raises(ConfigError):
        fold_bars_figure(res)


def test_layer_weights_figure_draws_a_bar_per_fold_and_layer(tmp_path):
    fig = layer_weights_figure({"fold-1": [0.2, 0.5, 0.3], "fold-2": [0.3, 0.3, 0.4]})
    ax = fig.axes[0]
    assert len(ax.patches) == 6 and ax.get_ylabel() == "learned weight"
    assert save_figure(fig, tmp_path / "w.png").stat().st_size > 0
    with pytest.raises(ConfigError, match="same number of layer weights"):
        layer_weights_figure({"a": [0.5, 0.5], "b": [1.0]})
    with pytest.raises(ConfigError, match="no layer weights"):
        layer_weights_figure({})
