"""Generated audio-visual corpora shared by the video tests (built once per test process)."""

from __future__ import annotations

import pytest

from emoscope.testing.corpora.audiovisual import make_cremad_av, make_ravdess_av

#: Small face-frames options: 6 frames over the whole clip, 24 x 40 crops, native frame size.
FACES = {"name": "face-frames", "n_frames": 6, "duration": None, "height": 24, "width": 40,
         "work_height": 0}
#: Small spectrogram images over the whole clip.
SPECTROGRAM = {"name": "spectrogram-image", "height": 32, "width": 32, "channels": 1,
               "db_min": -100.0, "db_max": -20.0}
#: Tiny two-stream model options (BatchNorm: from scratch the tiny streams need it).
AUDIO_STREAM = {"channels": [4, 8, 8], "rnn_hidden": 16, "hidden": 16, "batch_norm": True}
VIDEO_STREAM = {"channels": [4, 8, 8, 8], "hidden": 16, "batch_norm": True}


@pytest.fixture(scope="session")
def tiny():
    """The small options above, by name: faces, spectrogram, audio_stream, video_stream."""
    return {"faces": dict(FACES), "spectrogram": dict(SPECTROGRAM),
            "audio_stream": dict(AUDIO_STREAM), "video_stream": dict(VIDEO_STREAM)}


@pytest.fixture(scope="session")
def ravdess_av(tmp_path_factory):
    """RAVDESS audio-visual MP4s: 4 actors x 4 emotions (neutral, happy, sad, angry) x 2
    statements, 1.2 s each."""
    return make_ravdess_av(tmp_path_factory.mktemp("ravdess_av"), actors=(1, 2, 3, 4),
                           emotions=(1, 3, 4, 5), statements=("01", "02"), seconds=1.2)


@pytest.fixture(scope="session")
def cremad_av(tmp_path_factory):
    """CREMA-D VideoFlash FLVs: 3 actors x 4 emotions x 1 sentence, 1.2 s each."""
    return make_cremad_av(tmp_path_factory.mktemp("cremad_av"), actors=(1001, 1002, 1003),
                          sentences=("DFA",), seconds=1.2)


@pytest.fixture(scope="session")
def av_cache(tmp_path_factory):
    """One feature cache for the session's video tests."""
    return tmp_path_factory.mktemp("av_cache")


@pytest.fixture(scope="session")
def paired_av(ravdess_av, av_cache, tiny):
    """The generated RAVDESS corpus's manifest and its tiny (spectrogram, face frames) pairs:
    ``(manifest, PairedFeatures)``."""
    from emoscope import corpora, features
    from emoscope.train.paired import PairedFeatures

    df = corpora.load("ravdess", ravdess_av, modality="audio-visual")
    fa = features.extract_features(df, features.create(tiny["spectrogram"]), cache=av_cache,
                                   progress=False)
    fv = features.extract_features(df, features.create(tiny["faces"]), cache=av_cache,
                                   progress=False)
    return df, PairedFeatures((fa, fv))
