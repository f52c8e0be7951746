"""Audio-only, video-only and fused models side by side: one table.

:func:`compare_runs` runs several experiment configs on the same corpus and protocol (each in
its own sub-folder of the output) and writes ``comparison.csv`` and ``comparison.md``: per
config its inputs (audio, video, audio+video), model, whether it was pre-trained
contrastively, and the mean UA, WA and macro-F1 over the folds (± std). When one run is
audio-only and one video-only, a row "late fusion (mean of the two)" is added too: the average
of their test probabilities, clip by clip, scored on the clips both predicted.

>>> table = compare_runs(["configs/av/ravdess_audio_only.yaml",           # doctest: +SKIP
...                       "configs/av/ravdess_video_only.yaml",
...                       "configs/av/ravdess_fusion.yaml"],
...                      data_root="../shared/data/RAVDESS-AV", out_dir="runs/av")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from emoscope.errors import ConfigError
from emoscope.evaluate.fusion import late_fusion_scores

__all__ = ["compare_runs", "modality_of"]


def modality_of(cfg: Any) -> str:
    """``"audio"``, ``"video"`` or ``"audio+video"``: what an experiment config looks at."""
    if cfg.video is not None:
        return "audio+video"
    reads = cfg.features.extractor_class.input_column
    return "video" if reads == "video_path" else "audio"


def compare_runs(configs: Sequence[str | os.PathLike[str] | Any], *,
                 out_dir: str | os.PathLike[str], data_root: str | os.PathLike[str] | None = None,
                 overrides: Sequence[str] = (), protocol: str | None = None,
                 cache: str | os.PathLike[str] | None = None, progress: bool = True,
                 resume: bool = False) -> pd.DataFrame:
    """Run every config and write one comparison table.

    Parameters
    ----------
    configs : sequence of path or ExperimentConfig
        The experiments (each runs in ``out_dir/<config name>``).
    out_dir : path
    data_root : path, optional
        The corpus folder, for every config.
    overrides : sequence of str
        ``key=value`` overrides applied to every config (``train.epochs=5``).
    protocol : str, optional
        Overrides every config's protocol (they should share one).
    cache, progress, resume :
        As :func:`emoscope.train.experiment.run_experiment`.

    Returns
    -------
    pd.DataFrame
        The table, also written as ``comparison.csv`` and ``comparison.md``.
    """
    from emoscope.config import ExperimentConfig, load_config
    from emoscope.train.experiment import run_experiment

    if not configs:
        raise ConfigError("compare_runs needs at least one config")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, by_modality = [], {}
    for source in configs:
        cfg = source if isinstance(source, ExperimentConfig) else load_config(
            source, overrides=list(overrides))
        res = run_experiment(cfg, out_dir=out / cfg.name, data_root=data_root,
                             protocol=protocol, cache=cache, progress=progress, resume=resume)
        r = res.results
        kind = modality_of(cfg)
        by_modality.setdefault(kind, []).append(res.run_dir)
        pre = cfg.video.pretrain.epochs if cfg.video is not None else 0
        rows.append({"name": cfg.name, "inputs": kind, "model": cfg.model.name,
                     "pretraining": f"contrastive, {pre} epochs" if pre else "none",
                     "protocol": r["protocol"] + (" (LEAKY)" if r["leaky"] else ""),
                     "n_folds": len(r["folds"]),
                     **{k: r["mean"][k] for k in ("ua", "wa", "macro_f1")},
                     **{f"{k}_std": r["std"][k] for k in ("ua", "wa", "macro_f1")}})
    if len(by_modality.get("audio", [])) == 1 and len(by_modality.get("video", [])) == 1:
        s = late_fusion_scores(by_modality["audio"][0] / "predictions.csv",
                               by_modality["video"][0] / "predictions.csv")
        rows.append({"name": "late fusion (mean of the two)", "inputs": "audio+video",
                     "model": "audio-only and video-only runs", "pretraining": "none",
                     "protocol": rows[0]["protocol"], "n_folds": s["n_folds"],
                     **{k: s[k] for k in ("ua", "wa", "macro_f1")},
                     **{f"{k}_std": s[f"{k}_std"] for k in ("ua", "wa", "macro_f1")}})
    table = pd.DataFrame(rows)
    table.to_csv(out / "comparison.csv", index=False)
    (out / "comparison.md").write_text(_markdown(table))
    return table


def _markdown(table: pd.DataFrame) -> str:
    lines = ["| name | inputs | model | pretraining | protocol | UA | WA | macro-F1 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in table.to_dict("records"):
        cells = [f"{r[k]:.3f} ± {r[k + '_std']:.3f}" for k in ("ua", "wa", "macro_f1")]
        lines.append(f"| {r['name']} | {r['inputs']} | {r['model']} | {r['pretraining']} | "
                     f"{r['protocol']} ({r['n_folds']} folds) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
