"""Every subcommand has --help; errors are one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from emoscope.cli import app, main


def _commands() -> list[str]:
    return sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def test_there_are_commands():
    assert {"doctor", "corpora", "manifest"} <= set(_commands())


@pytest.mark.parametrize("cmd", _commands())
def test_help_on_every_subcommand(cmd, capsys):
    assert main([cmd, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_top_level_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert "emoscope 0." in capsys.readouterr().out


def test_usage_error_exit_2(capsys):
    assert main(["no-such-command"]) == 2


def test_console_script_prints_one_line_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "emoscope.cli", "doctor", str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("error:") and "no such folder" in r.stderr


def test_manifest_command(tmp_path, capsys):
    from emoscope.testing.corpora.tess import make_tess

    root = make_tess(tmp_path / "t", words=("back",))
    out = tmp_path / "m.csv"
    assert main(["manifest", str(root), "--corpus", "tess", "--out", str(out),
                 "--labels", "angry,sad"]) == 0
    import pandas as pd

    df = pd.read_csv(out)
    assert len(df) == 4 and set(df.label) == {"angry", "sad"}


def test_typer_is_used_for_parsing():
    assert isinstance(app, typer.Typer)


def test_folds_command_named_and_kind(tmp_path, capsys):
    import json

    from emoscope.testing.corpora.ravdess import make_ravdess
    from emoscope.testing.corpora.tess import make_tess

    rav = make_ravdess(tmp_path / "r", actors=tuple(range(1, 7)), emotions=(1, 3, 5))
    out = tmp_path / "folds.json"
    assert main(["folds", str(rav), "-c", "ravdess", "-p", "speaker-kfold", "-s", "k=3",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "3 folds" in text and "speaker-independent" in text
    data = json.loads(out.read_text())
    tested = [i for f in data["folds"] for i in f["test"]]
    assert len(tested) == len(set(tested)) == 6 * 10

    tess = make_tess(tmp_path / "t", words=("back", "bar", "base", "bath", "bean"))
    assert main(["folds", str(tess), "-c", "tess", "-p", "tess-random-80-20", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["leaky"] is True and d["warning"].startswith("LEAKY")
    assert main(["folds", str(tess), "-c", "tess", "-p", "tess-cross-speaker"]) == 0
    assert "OAF" in capsys.readouterr().out
    assert main(["folds", str(tess), "-c", "tess", "-p", "cross-corpus", "--test-folder",
                 str(rav), "--test-corpus", "ravdess"]) == 0
    assert "train tess, test ravdess" in capsys.readouterr().out
    assert main(["folds", str(tess), "-c", "tess", "-p", "no-such-protocol"]) == 1
    assert "unknown protocol" in capsys.readouterr().err


def test_protocols_command(capsys):
    assert main(["protocols"]) == 0
    text = capsys.readouterr().out
    assert "speaker-kfold" in text and "ravdess-si6" in text


def test_explore_command(tmp_path, capsys):
    from emoscope.testing.corpora.tess import make_tess

    root = make_tess(tmp_path / "t", words=("back",))
    assert main(["explore", str(root), "--corpus", "tess", "--out", str(tmp_path / "rep")]) == 0
    assert "report.html" in capsys.readouterr().out
    assert (tmp_path / "rep" / "report.html").is_file()
    assert len(list((tmp_path / "rep").glob("*.png"))) == 6


def test_extract_and_features_commands(tmp_path, capsys):
    import pandas as pd

    from emoscope.testing.corpora.tess import make_tess

    root = make_tess(tmp_path / "t", words=("back",))
    (root / "OAF_junk_sad.wav").write_text("not audio")
    out = tmp_path / "mfcc.csv"
    assert main(["extract", str(root), "-c", "tess", "-f", "mfcc-mean", "-s", "n_mfcc=13",
                 "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    err_text = capsys.readouterr().err
    assert "skipped" in err_text and "OAF_junk_sad.wav" in err_text
    assert pd.read_csv(out, index_col="id").shape == (14, 13)
    assert main(["features"]) == 0
    assert "spectrogram-image" in capsys.readouterr().out


def test_train_benchmark_and_evaluate_commands(tmp_path, capsys):
    import json

    from emoscope.testing.corpora.tess import make_tess

    root = make_tess(tmp_path / "t", words=("back", "bar", "base"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: cli-test\ndata: {corpus: tess}\nprotocol: {name: tess-cross-speaker}\n"
                   "features: {name: mfcc-mean, n_mfcc: 13}\nmodel: {name: mlp}\n"
                   "train: {epochs: 2, batch_size: 8}\n")
    run = tmp_path / "run"
    assert main(["train", str(cfg), "--data-root", str(root), "--out", str(run),
                 "--cache", str(tmp_path / "cache"), "-s", "train.lr=3e-3"]) == 0
    text = capsys.readouterr().out
    assert "tess-cross-speaker, 2 fold(s)" in text and "mean: UA" in text
    assert json.loads((run / "metrics.json").read_text())["protocol"] == "tess-cross-speaker"
    assert "lr: 0.003" in (run / "config.yaml").read_text()
    assert main(["benchmark", "--protocol", "tess-random-80-20", "--config", str(cfg),
                 "--data-root", str(root), "--out", str(tmp_path / "b"), "--cache",
                 str(tmp_path / "cache")]) == 0
    assert "LEAKY" in capsys.readouterr().out
    assert main(["evaluate", str(run / "bundle"), "--corpus", "tess", "--data-root", str(root),
                 "--cache", str(tmp_path / "cache")]) == 0
    assert "UA" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(cfg.read_text().replace("epochs: 2", "epoch: 2"))
    assert main(["train", str(bad), "--data-root", str(root)]) == 1
    assert "unknown key 'train.epoch'" in capsys.readouterr().err
    assert main(["train", str(cfg), "--data-root", str(tmp_path / "nowhere")]) == 1
    assert "no such folder" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path), "--corpus", "tess", "--data-root", str(root)]) == 1
    assert "not a model bundle" in capsys.readouterr().err
