"""`emoscope export BUNDLE --onnx OUT`: writes the file, says what and how close to torch;
errors are one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from emoscope.cli import main
from emoscope.inference.onnx import read_onnx_metadata
from emoscope.testing.bundles import make_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("cli-export") / "b", feature="mfcc-mean",
                       model="mlp", model_options={"hidden": [16]})


def test_export_writes_and_reports(bundle: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sub" / "model.onnx"
    assert main(["export", str(bundle), "--onnx", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.is_file()
    meta = read_onnx_metadata(out)
    assert f"wrote {out}" in text and "opset 17" in text and "mlp on mfcc-mean" in text
    assert "features (batch, 40) -> probabilities (batch, 4)" in text
    assert "labels angry, happy, neutral, sad" in text
    assert f"max |torch - onnx| = {meta['check']['max_abs_diff']:.2e}" in text


def test_export_with_opset(bundle: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m13.onnx"
    assert main(["export", str(bundle), "--onnx", str(out), "--opset", "13"]) == 0
    assert "opset 13" in capsys.readouterr().out
    assert read_onnx_metadata(out)["opset"] == 13


def test_export_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--onnx" in text and "--opset" in text


def test_missing_onnx_option_is_a_usage_error(bundle: Path) -> None:
    assert main(["export", str(bundle)]) == 2


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "no such model bundle"),
    (["BUNDLE", "--opset", "9"], "opset must be an integer in [13, 20]"),
])
def test_errors_are_one_line(bundle: Path, tmp_path: Path, args: list[str],
                             message: str) -> None:
    args = [str(bundle) if a == "BUNDLE" else str(tmp_path / a) if a == "nope" else a
            for a in args]
    r = subprocess.run([sys.executable, "-m", "emoscope.cli", "export", *args, "--onnx",
                        str(tmp_path / "x.onnx")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("error:") and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.onnx").exists()
