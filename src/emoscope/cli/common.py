"""What every command shares: the consoles, ``key=value`` options, JSON and score lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import typer
from rich.console import Console

__all__ = ["RAY_ADDRESS_HELP", "RAY_HELP", "err", "mean_text", "out", "parse_options",
           "print_json", "print_skipped", "scores_text"]

#: --ray and --ray-address (predict, extract).
RAY_HELP = "Run on Ray workers: a local Ray started for this run, unless --ray-address is given."
RAY_ADDRESS_HELP = ("A Ray cluster to run on (auto, ray://HEAD:10001, HEAD:6379); implies "
                    "--ray.")

#: Results (stdout) and messages (stderr).
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """``key=value`` pairs (values parsed as YAML scalars/lists) into a dict.

    Raises
    ------
    typer.BadParameter
        A pair without ``=``.
    """
    import yaml

    opts: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise typer.BadParameter(f"expected key=value, got {pair!r}")
        k, v = pair.split("=", 1)
        opts[k.strip().replace("-", "_")] = yaml.safe_load(v)
    return opts


def print_json(obj: Any) -> None:
    """``obj`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def print_skipped(skipped: Iterable[tuple[Any, str]]) -> None:
    """One ``skipped PATH: REASON`` line on stderr per file that could not be used."""
    for path, reason in skipped:
        err.print(f"skipped {path}: {reason}", highlight=False)


def scores_text(s: Mapping[str, float]) -> str:
    """``UA 0.512  WA 0.530  macro-F1 0.498`` of a fold's (or a run's) scores."""
    return f"UA {s['ua']:.3f}  WA {s['wa']:.3f}  macro-F1 {s['macro_f1']:.3f}"


def mean_text(mean: Mapping[str, float], std: Mapping[str, float]) -> str:
    """``UA 0.512 ± 0.031  WA ...`` of the mean and standard deviation over folds."""
    return "  ".join(f"{name} {mean[k]:.3f} ± {std[k]:.3f}"
                     for k, name in (("ua", "UA"), ("wa", "WA"), ("macro_f1", "macro-F1")))
