"""The ``whisper`` feature: Whisper's log-mel front end, the encoder without 30 s padding, masks,
pooled layers, cache keys and clear errors; on tiny random encoders built with transformers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from emoscope import features
from emoscope.audio.io import load_audio
from emoscope.errors import AudioError, ConfigError
from emoscope.features.whisper_encoder import (
    encode,
    folder_fingerprint,
    inspect_folder,
    load_encoder,
)
from emoscope.features.whisper_frontend import log_mel
from emoscope.testing import chirp, noise, speechlike

transformers = pytest.importorskip("transformers")

TINY = dict(d_model=16, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=32,
            decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=32, vocab_size=100,
            pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
            max_target_positions=32, max_source_positions=1500)


def _tiny_folder(root: Path, *, n_mels: int = 80, seed: int = 0,
                 full: bool = True) -> Path:
    """A random Whisper checkpoint: a full WhisperModel (encoder.* and decoder.* keys) or an
    encoder-only folder with model.encoder.* keys, as ../shared/models/whisper-base has."""
    from safetensors.torch import save_file
    from transformers import WhisperConfig, WhisperModel

    cfg = WhisperConfig(num_mel_bins=n_mels, **TINY)
    torch.manual_seed(seed)
    model = WhisperModel(cfg)
    root.mkdir(parents=True, exist_ok=True)
    if full:
        model.save_pretrained(root)
    else:
        cfg.save_pretrained(root)
        state = {f"model.encoder.{k}": v.contiguous()
                 for k, v in model.encoder.state_dict().items()}
        save_file(state, str(root / "model.safetensors"))
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return _tiny_folder(tmp_path_factory.mktemp("whisper") / "tiny")


@pytest.mark.parametrize("seconds", [0.0105, 0.7, 3.2])
def test_log_mel_equals_transformers(seconds):
    from transformers import WhisperFeatureExtractor

    y = (speechlike(seconds=seconds, f0=180.0, seed=1)
         + noise(seconds=seconds, amplitude=0.01, seed=2)).astype(np.float32)
    ref = WhisperFeatureExtractor(feature_size=80)(y, sampling_rate=16000,
                                                   return_tensors="np").input_features[0]
    mine = log_mel(y)
    assert mine.shape == (80, len(y) // 160)
    np.testing.assert_allclose(mine, ref[:, : mine.shape[1]], atol=1e-4)


def test_log_mel_refuses_less_than_a_frame():
    with pytest.raises(AudioError, match="shorter than one Whisper frame"):
        log_mel(np.zeros(100, np.float32))
    with pytest.raises(AudioError, match="mono float"):
        log_mel(np.zeros((2, 800), np.float32))


@pytest.mark.parametrize("full", [True, False])
def test_30_seconds_equal_transformers_encoder(tmp_path, full):
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    folder = _tiny_folder(tmp_path / "m", full=full)
    info = inspect_folder(str(folder))
    enc = load_encoder(info, folder_fingerprint(info))
    ref = WhisperEncoder(WhisperConfig(num_mel_bins=80, **TINY))
    ref.load_state_dict(enc.state_dict())
    ref.eval()
    x = np.random.default_rng(0).standard_normal((80, 3000)).astype(np.float32)
    with torch.no_grad():
        want = ref(torch.from_numpy(x)[None], output_hidden_states=True).hidden_states
    got = encode(enc, [x])[0]
    assert len(got) == len(want) == 3
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w[0].numpy(), atol=1e-5)


def test_a_clips_states_do_not_depend_on_its_batch(tiny):
    info = inspect_folder(str(tiny))
    enc = load_encoder(info, folder_fingerprint(info))
    rng = np.random.default_rng(1)
    clips = [rng.standard_normal((80, n)).astype(np.float32) for n in (301, 1000, 57)]
    together = encode(enc, clips)
    for clip, states in zip(clips, together, strict=True):
        alone = encode(enc, [clip])[0]
        assert states[0].shape == ((clip.shape[1] + 1) // 2, 16)
        for a, b in zip(alone, states, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)


def test_long_clips_are_encoded_in_30_second_windows(tiny):
    info = inspect_folder(str(tiny))
    enc = load_encoder(info, folder_fingerprint(info))
    x = np.random.default_rng(2).standard_normal((80, 3000 + 401)).astype(np.float32)
    states = encode(enc, [x])[0]
    first = encode(enc, [x[:, :3000]])[0]
    rest = encode(enc, [x[:, 3000:]])[0]
    assert states[-1].shape == (1500 + 201, 16)
    np.testing.assert_allclose(states[-1], np.concatenate([first[-1], rest[-1]]), atol=1e-6)


def test_feature_pools_the_chosen_layers(tiny):
    y = chirp(200.0, 3000.0, seconds=1.2, amplitude=0.3)
    vec = features.create("whisper", model_path=str(tiny), layers=(1, -1))
    assert vec.kind == "vector" and vec.layer_indices == (1, 2)
    v = vec(y, 16000)
    assert v.shape == (2 * 2 * 16,) and np.isfinite(v).all()
    assert len(vec.feature_names()) == v.shape[0]
    mean = features.create("whisper", model_path=str(tiny), layers=(1, 2), pooling="mean")
    np.testing.assert_allclose(mean(y, 16000), np.concatenate([v[:16], v[32:48]]), atol=1e-6)
    seq = features.create("whisper", model_path=str(tiny), layers=(2,), pooling="none")
    frames = seq(y, 16000)
    assert seq.kind == "sequence" and frames.shape == (60, 16)
    assert features.create("whisper", model_path=str(tiny))(y, 16000).shape == (3 * 2 * 16,)
    y8k = y[::2].copy()  # any rate is resampled to 16 kHz first
    assert vec(y8k, 8000).shape == v.shape


def test_cache_key_follows_options_and_folder_content(tmp_path):
    folder = _tiny_folder(tmp_path / "m", seed=0)
    a = features.create("whisper", model_path=str(folder), layers=(1,))
    assert a.cache_key() == features.create("whisper", model_path=str(folder),
                                            layers=(1,)).cache_key()
    assert a.cache_key() != features.create("whisper", model_path=str(folder),
                                            layers=(2,)).cache_key()
    y = speechlike(seconds=0.8, seed=3)
    before, key_before = a(y, 16000), a.cache_key()
    _tiny_folder(tmp_path / "m", seed=1)  # new weights in the same folder, a moment later
    stamp = (folder / "model.safetensors").stat().st_mtime_ns + 10**9
    os.utime(folder / "model.safetensors", ns=(stamp, stamp))  # (file times tick every ~4 ms)
    b = features.create("whisper", model_path=str(folder), layers=(1,))
    assert b.cache_key() != key_before
    assert not np.allclose(b(y, 16000), before)  # the new weights are loaded, not the old


def test_bad_folders_are_one_line_errors(tmp_path, tiny):
    with pytest.raises(ConfigError, match="model_path is required"):
        features.create("whisper")
    with pytest.raises(ConfigError, match="does not exist"):
        features.create("whisper", model_path=str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"has no config\.json"):
        features.create("whisper", model_path=str(tmp_path / "empty"))
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
    with pytest.raises(ConfigError, match="'wav2vec2' model, not a Whisper one"):
        features.create("whisper", model_path=str(other))
    noweights = tmp_path / "noweights"
    noweights.mkdir()
    (noweights / "config.json").write_text((tiny / "config.json").read_text())
    with pytest.raises(ConfigError, match="has no weights"):
        features.create("whisper", model_path=str(noweights))
    with pytest.raises(ConfigError, match=r"layer\(s\) \[3\] out of range"):
        features.create("whisper", model_path=str(tiny), layers=(3,))
    with pytest.raises(ConfigError, match="sample_rate must be 16000"):
        features.create("whisper", model_path=str(tiny), sample_rate=8000)


def test_too_short_and_silent_clips_give_audio_errors(tiny):
    ext = features.create("whisper", model_path=str(tiny))
    with pytest.raises(AudioError):
        ext(np.zeros(100, np.float32), 16000)
    with pytest.raises(AudioError):
        ext(np.full(1600, np.nan, np.float32), 16000)


def test_extract_features_batches_clips_and_skips_bad_files(tiny, tmp_path):
    from emoscope.testing import write_audio

    paths = []
    for k, seconds in enumerate((0.5, 1.3, 0.9, 2.1, 0.4)):
        paths.append(write_audio(tmp_path / f"c{k}.wav",
                                 speechlike(seconds=seconds, f0=120.0 + 20 * k, seed=k), 16000))
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    silent = write_audio(tmp_path / "short.wav", np.zeros(80, np.float32), 16000)
    ext = features.create("whisper", model_path=str(tiny), layers=(1, 2))
    fs = features.extract_features([*paths[:2], bad, *paths[2:], silent], ext,
                                   cache=tmp_path / "cache", progress=False)
    assert [str(p) for p, _ in fs.failed] == [str(bad), str(silent)]
    assert len(fs) == 5
    for p in paths:  # batched together, equal to each clip alone
        y, sr = load_audio(p)
        np.testing.assert_allclose(fs[str(p)], ext(y, sr), atol=1e-5)


def test_layer_subsets_share_one_pass_and_one_cache_entry(tiny, tmp_path):
    """Pooled layer subsets are views of every layer's pooled vector: the second subset is
    read from the cache without encoding again, and equals the extractor called directly."""
    from emoscope.features import cached_paths
    from emoscope.testing import write_audio

    paths = [write_audio(tmp_path / f"c{k}.wav", speechlike(seconds=0.6 + 0.3 * k, seed=k),
                         16000) for k in range(3)]
    cache = tmp_path / "cache"
    first = features.extract_features(paths, features.create(
        "whisper", model_path=str(tiny), layers=(2,)), cache=cache, progress=False)
    assert (first.computed, first.reused) == (3, 0)
    for layers, pooling in (((0, 2), "mean+std"), ((-1, 1), "mean+std"), ((0, 1, 2), "mean+std"),
                            ((1,), "mean")):
        ext = features.create("whisper", model_path=str(tiny), layers=layers, pooling=pooling)
        fs = features.extract_features(paths, ext, cache=cache, progress=False)
        if pooling == "mean+std":
            assert (fs.computed, fs.reused) == (0, 3)
        assert fs.stack().shape == (3, ext.output_width())
        for p in paths:
            y, sr = load_audio(p)
            np.testing.assert_allclose(fs[str(p)], ext(y, sr), atol=1e-5)
    # one folder per pooling holds every layer; no folder per subset
    assert len(list((cache / "whisper").glob("*/spec.json"))) == 2
    with pytest.raises(ConfigError, match="views of whisper's cache entries"):
        cached_paths(first)
    every = features.extract_features(paths, features.create("whisper", model_path=str(tiny)),
                                      cache=cache, progress=False)
    assert every.view is None and len(cached_paths(every)) == 3


def test_frames_of_chosen_layers_are_cached_at_half_precision(tiny, tmp_path):
    """pooling=frames: every kept layer at each frame, (frames, layers * d), in layers' order;
    the cache entry is float16 and reads back as float32."""
    from emoscope.features import cached_paths
    from emoscope.testing import write_audio

    path = write_audio(tmp_path / "c.wav", speechlike(seconds=1.0, seed=3), 16000)
    ext = features.create("whisper", model_path=str(tiny), layers=(2, 0), pooling="frames")
    assert ext.kind == "sequence" and ext.output_width() == 2 * 16
    y, sr = load_audio(path)
    direct = ext(y, sr)
    states = encode(load_encoder(inspect_folder(str(tiny)), folder_fingerprint(
        inspect_folder(str(tiny)))), [log_mel(y)])[0]
    assert direct.shape == (50, 32)
    np.testing.assert_allclose(direct[:, :16], states[2], atol=1e-5)
    np.testing.assert_allclose(direct[:, 16:], states[0], atol=1e-5)
    fs = features.extract_features([path], ext, cache=tmp_path / "cache", progress=False)
    stored = np.load(cached_paths(fs)[str(path)])
    assert stored.dtype == np.float16 and stored.shape == (50, 32)
    got = fs[str(path)]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, direct, rtol=1e-3, atol=1e-3)
    with pytest.raises(ConfigError, match="pooling='max' should be"):
        features.create("whisper", model_path=str(tiny), pooling="max")


def test_a_bundle_refuses_an_encoder_of_another_size(tmp_path):
    """A bundle trained on one encoder, whose folder now holds one with another hidden size,
    is refused when it loads, naming both widths (never a shape traceback)."""
    from transformers import WhisperConfig, WhisperModel

    from emoscope.bundle import load_bundle
    from emoscope.errors import BundleError
    from emoscope.testing.bundles import make_bundle

    folder = _tiny_folder(tmp_path / "enc")
    bundle = make_bundle(tmp_path / "bundle", feature="whisper",
                         feature_options={"model_path": str(folder), "layers": [1]},
                         model="mlp", model_options={"hidden": [8]})
    ext = features.create("whisper", model_path=str(folder), layers=(1,))
    assert ext.output_width() == 32 and load_bundle(bundle).labels
    bigger = {**TINY, "d_model": 24}
    torch.manual_seed(0)
    WhisperModel(WhisperConfig(num_mel_bins=80, **bigger)).save_pretrained(folder)
    with pytest.raises(BundleError, match=r"now gives 48 values .* model takes 32"):
        load_bundle(bundle)
