"""A fake IEMOCAP release."""

from __future__ import annotations

from pathlib import Path

from emoscope.testing.corpora.common import fake_utterance
from emoscope.testing.corpora.cremad import fake_recording

#: Per session: dialog suffix -> (utterance suffix, category) in order. Every session has the
#: same shape: 14 evaluated utterances, 2 of them ``xxx``.
DIALOGS: dict[str, tuple[tuple[str, str], ...]] = {
    "F_impro01": (("F000", "neu"), ("M001", "hap"), ("F002", "exc"), ("M003", "sad"),
                  ("F004", "ang"), ("M005", "xxx"), ("F006", "fru")),
    "M_script01_1": (("M000", "ang"), ("F001", "exc"), ("M002", "neu"), ("F003", "sad"),
                     ("M004", "sur"), ("F005", "oth"), ("M006", "xxx")),
}
HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"


def utterance_times(i: int) -> tuple[float, float]:
    """Start and end (seconds) written for the ``i``-th utterance of a fake dialog."""
    return round(3.0 * i + 1.2901, 4), round(3.0 * i + 3.2357, 4)


def transcript_of(utt: str) -> str:
    """The transcript written for utterance ``utt``."""
    return f"Words of {utt}."


def make_iemocap(root: str | Path, *, sessions: tuple[int, ...] = (1, 2), video: bool = False,
                 ext: str = ".wav", seconds: float = 0.3) -> Path:
    """IEMOCAP layout under ``IEMOCAP_full_release/Session<N>/``: ``sentences/wav/<dialog>/``
    utterance files, ``dialog/EmoEvaluation/<dialog>.txt`` (summary lines with annotator lines
    between them, and a ``Categorical/`` sub-folder that must not be read),
    ``dialog/transcriptions/<dialog>.txt``, ``dialog/wav/<dialog>`` (whole dialogs, not
    utterances) and with ``video`` ``dialog/avi/DivX/<dialog>.avi``.

    Dialogs and categories are :data:`DIALOGS`; times from :func:`utterance_times`, transcripts
    from :func:`transcript_of`, valence/activation/dominance ``[2.5, 3.0, 3.5]`` for odd
    utterances and ``[3.0, 2.0, 4.0]`` for even ones. Returns the corpus root.
    """
    base = Path(root)
    for s in sessions:
        sdir = base / "IEMOCAP_full_release" / f"Session{s}"
        for suffix, utts in DIALOGS.items():
            dialog = f"Ses{s:02d}{suffix}"
            ev, tr = [HEADER, ""], []
            for i, (u, cat) in enumerate(utts):
                utt = f"{dialog}_{u}"
                start, end = utterance_times(i)
                vad = "[2.5000, 3.0000, 3.5000]" if i % 2 else "[3.0000, 2.0000, 4.0000]"
                ev += [f"[{start:.4f} - {end:.4f}]\t{utt}\t{cat}\t{vad}",
                       f"C-E1:\t{cat.title()};\t()", "A-E1:\tval 3; act 2; dom  3;\t()", ""]
                tr.append(f"{utt} [{start:08.4f}-{end:08.4f}]: {transcript_of(utt)}")
                fake_utterance(sdir / "sentences" / "wav" / dialog / utt, ext=ext,
                               seconds=seconds)
            evdir = sdir / "dialog" / "EmoEvaluation"
            (evdir / "Categorical").mkdir(parents=True, exist_ok=True)
            (evdir / f"{dialog}.txt").write_text("\n".join(ev) + "\n")
            (evdir / "Categorical" / f"{dialog}_e1_cat.txt").write_text(
                f"{dialog}_{utts[0][0]} :Neutral state; ()\n")
            (sdir / "dialog" / "transcriptions").mkdir(parents=True, exist_ok=True)
            (sdir / "dialog" / "transcriptions" / f"{dialog}.txt").write_text("\n".join(tr) + "\n")
            fake_utterance(sdir / "dialog" / "wav" / dialog, ext=ext, seconds=seconds)
            if video:
                fake_recording(sdir / "dialog" / "avi" / "DivX" / f"{dialog}.avi",
                               seconds=seconds)
    return base
