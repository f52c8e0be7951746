"""Leave one session out."""

from __future__ import annotations

from collections import Counter

import pytest

from emoscope import protocols
from emoscope.errors import ProtocolError

SESSIONS = {"01": "Ses01", "02": "Ses01", "03": "Ses02", "04": "Ses02", "05": "Ses03",
            "06": "Ses03"}


def test_one_fold_per_session(make_df, sound, tested):
    df = make_df(6, sessions=SESSIONS)
    p = protocols.build("loso-session", df)
    sound(p, df)
    assert [f.name for f in p.folds] == ["session-Ses01", "session-Ses02", "session-Ses03"]
    assert [f.test_speakers for f in p.folds] == [("01", "02"), ("03", "04"), ("05", "06")]
    assert Counter(tested(p.folds)) == Counter(df["id"])
    assert not p.leaky


def test_alias(make_df):
    p = protocols.build("leave-one-session-out", make_df(6, sessions=SESSIONS))
    assert p.kind == "loso-session"


def test_speaker_in_two_sessions_is_reported_leaky(make_df, sound):
    df = make_df(6, sessions=SESSIONS)
    df.loc[df.index[:3], "session"] = "Ses02"  # some of speaker 01 recorded in session 2
    p = protocols.build("loso-session", df)
    sound(p, df)
    assert p.leaky and "LEAKY" in str(p)


def test_missing_session_column(make_df):
    with pytest.raises(ProtocolError, match="session"):
        protocols.build("loso-session", make_df(6))


def test_rows_without_session(make_df):
    df = make_df(6, sessions=SESSIONS)
    df.loc[0, "session"] = None
    with pytest.raises(ProtocolError, match="without a session"):
        protocols.build("loso-session", df)


def test_one_session_is_not_enough(make_df):
    with pytest.raises(ProtocolError, match="two sessions"):
        protocols.build("loso-session", make_df(2, sessions={"01": "S", "02": "S"}))


def test_validation_from_other_sessions_speakers(make_df, sound):
    df = make_df(6, sessions=SESSIONS)
    p = protocols.build("loso-session", df, valid_speakers=1, seed=0)
    sound(p, df)
    for f in p.folds:
        assert len(f.valid_speakers) == 1 and not f.valid_leaky
        assert not set(f.valid_speakers) & set(f.test_speakers)
