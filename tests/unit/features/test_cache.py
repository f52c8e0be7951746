"""The feature cache: hits, keys, atomic writes, broken entries, killed writers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from emoscope.errors import AudioDecodeError
from emoscope.features import FeatureCache, create, file_hash
from emoscope.testing import tone, write_audio


@pytest.fixture
def ext():
    return create("mfcc-mean", n_mfcc=13)


def test_put_get_round_trip_and_layout(tmp_path, ext):
    cache = FeatureCache(tmp_path)
    x = np.arange(13, dtype=np.float32)
    assert cache.get("abcd", ext) is None and ("abcd", ext) not in cache
    p = cache.put("abcd", ext, x)
    assert p.parent.name == "ab" and p.name == "abcd.npy"
    assert (tmp_path / "mfcc-mean" / ext.cache_key() / "spec.json").is_file()
    np.testing.assert_array_equal(cache.get("abcd", ext), x)
    assert ("abcd", ext) in cache
    assert list(tmp_path.rglob("*.tmp")) == []


def test_config_change_is_a_different_entry(tmp_path, ext):
    cache = FeatureCache(tmp_path)
    cache.put("k1", ext, np.zeros(13, np.float32))
    other = create("mfcc-mean", n_mfcc=20)
    assert other.cache_key() != ext.cache_key()
    assert cache.get("k1", other) is None
    assert create("mfcc-mean", n_mfcc=13).cache_key() == ext.cache_key()


def test_file_hash_follows_content_not_name(tmp_path):
    a = write_audio(tmp_path / "a.wav", tone(440), 16000)
    b = tmp_path / "copy.wav"
    b.write_bytes(a.read_bytes())
    c = write_audio(tmp_path / "c.wav", tone(441), 16000)
    assert file_hash(a) == file_hash(b) != file_hash(c)
    with pytest.raises(AudioDecodeError):
        file_hash(tmp_path / "missing.wav")


def test_broken_entry_is_a_miss_and_removed(tmp_path, ext):
    cache = FeatureCache(tmp_path)
    p = cache.put("beef", ext, np.ones(13, np.float32))
    p.write_bytes(p.read_bytes()[:40])  # truncated .npy
    assert cache.get("beef", ext) is None
    assert not p.exists()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"garbage, not numpy")
    assert cache.get("beef", ext) is None


_KILLED_WRITER = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from emoscope.features import FeatureCache, create
    cache = FeatureCache(sys.argv[1])
    ext = create("mfcc-mean", n_mfcc=13)
    stage = sys.argv[2]
    if stage == "before-rename":
        def hang(*a, **k):
            print("ready", flush=True); time.sleep(600)
        os.replace = hang
    else:  # mid-write: half of the bytes reach the temporary file, then the process hangs
        real_save = np.save
        def half_save(fh, arr, allow_pickle=False):
            import io
            buf = io.BytesIO(); real_save(buf, arr, allow_pickle=False)
            data = buf.getvalue(); fh.write(data[: len(data) // 2]); fh.flush()
            print("ready", flush=True); time.sleep(600)
        np.save = half_save
    cache.put("cafe", ext, np.arange(200_000, dtype=np.float32))
""")


@pytest.mark.parametrize("stage", ["mid-write", "before-rename"])
def test_writer_killed_mid_write_leaves_no_valid_entry(tmp_path, ext, stage):
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(tmp_path), stage],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    cache = FeatureCache(tmp_path)
    leftovers = list(tmp_path.rglob("*.tmp"))
    assert len(leftovers) == 1  # the killed writer's temporary file...
    assert cache.get("cafe", ext) is None  # ...is never read as an entry
    assert ("cafe", ext) not in cache
    os.utime(leftovers[0], (time.time() - 7200, time.time() - 7200))
    assert cache.clean_temporary(older_than=3600) == 1
    # and a later writer completes the entry normally
    cache.put("cafe", ext, np.arange(5, dtype=np.float32))
    assert cache.get("cafe", ext).tolist() == [0, 1, 2, 3, 4]


def test_parallel_writers_of_one_entry(tmp_path, ext):
    script = textwrap.dedent("""
        import sys, numpy as np
        from emoscope.features import FeatureCache, create
        c = FeatureCache(sys.argv[1]); e = create("mfcc-mean", n_mfcc=13)
        for _ in range(50):
            c.put("same", e, np.full(100_000, 7, np.float32))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)]) for _ in range(3)]
    cache = FeatureCache(tmp_path)
    while any(p.poll() is None for p in procs):
        got = cache.get("same", ext)
        assert got is None or (got.shape == (100_000,) and (got == 7).all())
    assert all(p.returncode == 0 for p in procs)
    assert (cache.get("same", ext) == 7).all()
    assert list(tmp_path.rglob("*.tmp")) == []
