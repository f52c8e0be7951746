"""The HTML report of a training run: scores per fold and their mean, plots, config, skips."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2
import yaml

__all__ = ["write_training_report"]

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>emoscope run: {{ name }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.leaky { background: #fff3cd; border: 1px solid #e0b200; padding: 0.6em 1em; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.85em; }
</style></head><body>
<h1>{{ name }}</h1>
<p>Model <b>{{ model }}</b> on <b>{{ feature }}</b> features; protocol <b>{{ protocol }}</b>
({{ n_folds }} fold{{ "s" if n_folds != 1 }}); labels: {{ labels|join(", ") }}.
Run time {{ "%.0f"|format(seconds) }} s (training {{ "%.0f"|format(train_seconds) }} s).</p>
{% if leaky %}<p class="leaky"><b>LEAKY protocol:</b> speakers are shared between training and
test, so these scores overestimate performance on new speakers.</p>{% endif %}
<h2>Scores</h2>
<table><tr><th>fold</th><th>test utterances</th><th>UA</th><th>UA 95 % CI</th><th>WA</th>
<th>macro-F1</th></tr>
{% for f in folds %}<tr><td>{{ f.name }}</td><td>{{ f.n_test }}</td>
<td>{{ "%.3f"|format(f.ua) }}</td>
<td>{{ "%.3f"|format(f.ci95.ua[0]) }}–{{ "%.3f"|format(f.ci95.ua[1]) }}</td>
<td>{{ "%.3f"|format(f.wa) }}</td><td>{{ "%.3f"|format(f.macro_f1) }}</td></tr>
{% endfor %}<tr><th>mean ± std</th><th></th>
<th>{{ "%.3f"|format(mean.ua) }} ± {{ "%.3f"|format(std.ua) }}</th><th></th>
<th>{{ "%.3f"|format(mean.wa) }} ± {{ "%.3f"|format(std.wa) }}</th>
<th>{{ "%.3f"|format(mean.macro_f1) }} ± {{ "%.3f"|format(std.macro_f1) }}</th></tr></table>
<h2>Confusion matrix (pooled over folds)</h2><img src="confusion.png" alt="confusion matrix">
<h2>Scores per fold</h2><img src="folds.png" alt="scores per fold">
{% if layer_weights %}<h2>Learned layer weights</h2>
<img src="layer_weights.png" alt="learned layer weights per fold">{% endif %}
{% if curves %}<h2>Learning curves</h2>
{% for c in curves %}<p>{{ c.name }}</p><img src="{{ c.src }}" alt="learning curves {{ c.name }}">
{% endfor %}{% endif %}
{% if skipped %}<h2>Skipped files ({{ skipped|length }})</h2><table>
<tr><th>file</th><th>reason</th></tr>
{% for p, r in skipped %}<tr><td>{{ p }}</td><td>{{ r }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Configuration</h2><pre>{{ config_yaml }}</pre>
<p>Files: <a href="metrics.json">metrics.json</a>, <a href="predictions.csv">predictions.csv</a>,
<a href="config.yaml">config.yaml</a>.</p>
</body></html>
"""


def write_training_report(run_dir: str | os.PathLike[str], *, results: dict[str, Any],
                          config: Any, protocol: Any, skipped: list[tuple[str, str]],
                          seconds: float) -> Path:
    """Write ``run_dir/report.html`` (the PNGs and files it links sit beside it)."""
    from emoscope.schema import config_to_dict

    out = Path(run_dir)
    curves = [{"name": f"fold {i}", "src": f"folds/fold-{i}/learning_curves.png"}
              for i in range(1, len(results["folds"]) + 1)
              if (out / "folds" / f"fold-{i}" / "learning_curves.png").is_file()]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    html = env.from_string(_TEMPLATE).render(
        name=config.name, model=config.model.name, feature=config.features.name,
        protocol=results["protocol"], n_folds=len(results["folds"]), labels=results["labels"],
        seconds=seconds, train_seconds=results.get("train_seconds", 0.0),
        leaky=results["leaky"], folds=results["folds"], mean=results["mean"],
        std=results["std"], curves=curves, skipped=skipped,
        layer_weights=(out / "layer_weights.png").is_file(),
        config_yaml=yaml.safe_dump(config_to_dict(config), sort_keys=False),
    )
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
