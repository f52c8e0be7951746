"""Pure feature functions (``waveform -> array``) with keyword-only options.

Time-major outputs: ``(n_frames, n_features)``. Inputs are mono float32 waveforms.
"""

from __future__ import annotations

import functools

import numpy as np

from emoscope.errors import ConfigError

__all__ = [
    "check_mel_options",
    "cmvn",
    "delta",
    "empty_mel_bands",
    "frame_rms_db",
    "log_mel",
    "mel_db",
    "mel_power",
    "mfcc",
    "pitch_yin",
    "resize_bilinear",
    "stack_deltas",
    "stft_db",
    "stft_power",
]


def mel_power(y: np.ndarray, sr: int, *, n_mels: int = 64, n_fft: int = 400,
              hop_length: int = 160, win_length: int | None = None, fmin: float = 0.0,
              fmax: float | None = None, center: bool = True) -> np.ndarray:
    """Mel power spectrogram (Slaney mel scale, Hann window).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int

    Returns
    -------
    np.ndarray [shape=(n_frames, n_mels)], float32, non-negative
    """
    import librosa

    spec = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                               center=center)) ** 2  # (1 + n_fft // 2, n_frames)
    basis = mel_basis(sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return np.ascontiguousarray((basis @ spec).T, dtype=np.float32)


@functools.lru_cache(maxsize=32)
def mel_basis(sr: int, *, n_fft: int, n_mels: int, fmin: float = 0.0,
              fmax: float | None = None) -> np.ndarray:
    """The Slaney mel filterbank, computed once per setting (librosa recomputes it per call).

    Returns
    -------
    np.ndarray [shape=(n_mels, 1 + n_fft // 2)], read-only
    """
    import librosa

    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    basis.setflags(write=False)
    return basis


def log_mel(y: np.ndarray, sr: int, *, n_mels: int = 64, n_fft: int = 400,
            hop_length: int = 160, win_length: int | None = None, fmin: float = 0.0,
            fmax: float | None = None, floor: float = 1e-10) -> np.ndarray:
    """Natural-log mel power spectrogram, ``log(max(mel, floor))``.

    Returns
    -------
    np.ndarray [shape=(n_frames, n_mels)], float32
    """
    s = mel_power(y, sr, n_mels=n_mels, n_fft=n_fft, hop_length=hop_length,
                  win_length=win_length, fmin=fmin, fmax=fmax)
    return np.log(np.maximum(s, floor)).astype(np.float32)


def mfcc(y: np.ndarray, sr: int, *, n_mfcc: int = 40, n_mels: int = 128, n_fft: int = 400,
         hop_length: int = 160, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """MFCCs (DCT-II, orthonormal, of the dB mel spectrogram), as librosa computes them.

    Returns
    -------
    np.ndarray [shape=(n_frames, n_mfcc)], float32
    """
    import librosa
    import scipy.fft

    mel = mel_power(y, sr, n_mels=n_mels, n_fft=n_fft, hop_length=hop_length, fmin=fmin,
                    fmax=fmax)  # (n_frames, n_mels)
    db = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    c = scipy.fft.dct(db, axis=-1, type=2, norm="ortho")[:, :n_mfcc]
    return np.ascontiguousarray(c, dtype=np.float32)


# --- spectrograms on a fixed dB scale ---------------------------------------------------------


def stft_power(y: np.ndarray, *, n_fft: int = 512, hop_length: int = 160,
               win_length: int | None = None, center: bool = True) -> np.ndarray:
    """Power spectrogram (Hann window) on a fixed scale: a full-scale sine (amplitude 1) whose
    frequency sits on a bin reads 1.0 in that bin, whatever ``n_fft`` and ``win_length``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    n_fft, hop_length : int
        FFT size and hop in samples.
    win_length : int or None
        Hann window length (``None``: ``n_fft``), zero-padded to ``n_fft``.
    center : bool
        Pad ``n_fft // 2`` zeros on both sides so that frame ``t`` is centred on ``t * hop``.

    Returns
    -------
    np.ndarray [shape=(n_frames, n_fft // 2 + 1)], float32, non-negative;
    ``n_frames = 1 + n // hop_length`` when ``center``. Bin ``k`` is ``k * sr / n_fft`` Hz.
    """
    import librosa
    import scipy.signal

    win = n_fft if win_length is None else win_length
    s = librosa.stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win, window="hann",
                     center=center, pad_mode="constant")
    gain = float(np.sum(scipy.signal.get_window("hann", win, fftbins=True))) / 2.0
    return np.ascontiguousarray((np.abs(s.T) / gain) ** 2, dtype=np.float32)


def stft_db(y: np.ndarray, *, n_fft: int = 512, hop_length: int = 160,
            win_length: int | None = None, center: bool = True,
            amin: float = 1e-10) -> np.ndarray:
    """:func:`stft_power` in dB: ``10 * log10(max(power, amin))``, 0 dB = a full-scale sine.

    The reference is fixed (not the maximum of the utterance), so a quieter recording gives
    lower values. ``amin=1e-10`` floors the output at -100 dB.

    Returns
    -------
    np.ndarray [shape=(n_frames, n_fft // 2 + 1)], float32
    """
    p = stft_power(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, center=center)
    return (10.0 * np.log10(np.maximum(p, amin))).astype(np.float32)


def _hz_to_mel_slaney(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear to 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    linear = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, linear)


def _mel_to_hz_slaney(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)),
                    (200.0 / 3) * m)


def empty_mel_bands(sr: int, *, n_fft: int, n_mels: int, fmin: float = 0.0,
                    fmax: float | None = None) -> list[int]:
    """Mel bands (Slaney scale, as ``librosa.filters.mel``) that no FFT bin falls into.

    Such a band is zero in every frame (librosa only warns); too many ``n_mels`` for the
    ``n_fft`` over a narrow range. Pure numpy, so configs are checked without loading librosa.

    Returns
    -------
    list of int: indices of the empty bands, ``[]`` when every band has a bin
    """
    top = sr / 2 if fmax is None else fmax
    edges = _mel_to_hz_slaney(np.linspace(_hz_to_mel_slaney(fmin), _hz_to_mel_slaney(top),
                                          n_mels + 2))
    bins = np.arange(n_fft // 2 + 1) * sr / n_fft
    inside = (bins[None, :] > edges[:-2, None]) & (bins[None, :] < edges[2:, None])
    return [int(i) for i in np.flatnonzero(~inside.any(axis=1))]


def mel_db(y: np.ndarray, sr: int, *, n_mels: int = 128, n_fft: int = 512,
           hop_length: int = 160, win_length: int | None = None, fmin: float = 0.0,
           fmax: float | None = None, center: bool = True, amin: float = 1e-10) -> np.ndarray:
    """Mel spectrogram in dB on the fixed scale of :func:`stft_db`.

    The triangular filters have unit peak (``norm=None``, Slaney mel scale), so a full-scale
    sine at a band centre reads about 0 dB in that band (up to +2 dB where a band is wider than
    the window's main lobe).

    Returns
    -------
    np.ndarray [shape=(n_frames, n_mels)], float32; band ``i`` is centred on
    ``librosa.mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)[i + 1]``.
    """
    import librosa

    p = stft_power(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, center=center)
    fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                             norm=None, dtype=np.float32)  # (n_mels, n_bins)
    return (10.0 * np.log10(np.maximum(p @ fb.T, amin))).astype(np.float32)


# --- frame-level post-processing --------------------------------------------------------------


def delta(x: np.ndarray, *, width: int = 5) -> np.ndarray:
    """Regression deltas along time (HTK/Kaldi formula), edges repeated.

    ``d[t] = sum_{n=1..N} n * (x[t+n] - x[t-n]) / (2 * sum_{n=1..N} n^2)`` with
    ``N = (width - 1) // 2``: the least-squares slope per frame, defined for any number of frames.

    Parameters
    ----------
    x : np.ndarray [shape=(n_frames, dim)]
    width : int
        Odd, >= 3 (5: HTK and Kaldi's default window of +-2 frames).

    Returns
    -------
    np.ndarray [shape=(n_frames, dim)], float32
    """
    if width < 3 or width % 2 == 0:
        raise ConfigError(f"delta width must be odd and >= 3, got {width}")
    half = (width - 1) // 2
    n = x.shape[0]
    xp = np.pad(np.asarray(x, dtype=np.float64), [(half, half)] + [(0, 0)] * (x.ndim - 1),
                mode="edge")
    d = np.zeros(x.shape, dtype=np.float64)
    for k in range(1, half + 1):
        d += k * (xp[half + k:half + k + n] - xp[half - k:half - k + n])
    return (d / (2.0 * sum(k * k for k in range(1, half + 1)))).astype(np.float32)


def stack_deltas(x: np.ndarray, *, order: int = 2, width: int = 5) -> np.ndarray:
    """``[x, delta(x), delta(delta(x)), ...]`` up to ``order``, side by side (Kaldi's add-deltas).

    Parameters
    ----------
    x : np.ndarray [shape=(n_frames, dim)]
    order : int
        0 returns ``x`` itself; 2 appends deltas and delta-deltas.

    Returns
    -------
    np.ndarray [shape=(n_frames, dim * (order + 1))], float32
    """
    if order < 0:
        raise ConfigError(f"delta order must be >= 0, got {order}")
    parts = [np.asarray(x, dtype=np.float32)]
    for _ in range(order):
        parts.append(delta(parts[-1], width=width))
    return np.concatenate(parts, axis=1)


def cmvn(x: np.ndarray, *, variance: bool = True, eps: float = 1e-5) -> np.ndarray:
    """Per-utterance cepstral mean (and variance) normalisation, column by column.

    Columns whose standard deviation is below ``eps`` (constant ones) are only centred, never
    blown up.

    Parameters
    ----------
    x : np.ndarray [shape=(n_frames, dim)]

    Returns
    -------
    np.ndarray [shape=(n_frames, dim)], float32: zero mean (and unit variance) per column
    """
    x64 = np.asarray(x, dtype=np.float64)
    out = x64 - x64.mean(axis=0, keepdims=True)
    if variance:
        std = x64.std(axis=0, keepdims=True)
        out /= np.where(std > eps, std, 1.0)
    return out.astype(np.float32)


def _interp_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) rows of a linear (triangle) kernel widened when shrinking, rows sum to 1."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale
    w = np.maximum(0.0, 1.0 - np.abs(np.arange(n_in)[None, :] + 0.5 - centres[:, None]) / support)
    return w / w.sum(axis=1, keepdims=True)


def resize_bilinear(img: np.ndarray, *, height: int, width: int) -> np.ndarray:
    """Resize the last two axes with bilinear interpolation, antialiased when shrinking.

    Pixel centres are aligned (``align_corners=False``); the result equals
    ``torch.nn.functional.interpolate(..., mode="bilinear", antialias=True)`` without importing
    torch.

    Parameters
    ----------
    img : np.ndarray [shape=(..., h, w)]

    Returns
    -------
    np.ndarray [shape=(..., height, width)], float32
    """
    if height <= 0 or width <= 0:
        raise ConfigError(f"height and width must be positive, got {height}x{width}")
    h, w = img.shape[-2:]
    wh = _interp_weights(h, height)  # (height, h)
    ww = _interp_weights(w, width)  # (width, w)
    return (wh @ np.asarray(img, dtype=np.float64) @ ww.T).astype(np.float32)


# --- prosody ----------------------------------------------------------------------------------


def _centred_frames(y: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """Frames centred on ``t * hop_length`` (zero padding), as librosa.yin frames them.

    Returns np.ndarray [shape=(frame_length, 1 + n // hop_length)] for even ``frame_length``.
    """
    import librosa

    pad = frame_length // 2
    yp = np.pad(np.asarray(y, dtype=np.float32), (pad, pad))
    return librosa.util.frame(yp, frame_length=frame_length, hop_length=hop_length)


def frame_rms_db(y: np.ndarray, *, frame_length: int = 800, hop_length: int = 160,
                 amin: float = 1e-5) -> np.ndarray:
    """Frame energy: ``20 * log10(max(rms, amin))`` over rectangular frames centred on
    ``t * hop_length``, in dB re full scale (a full-scale sine reads -3.01 dB; ``amin=1e-5``
    floors silence at -100 dB).

    Returns
    -------
    np.ndarray [shape=(1 + n // hop_length,)], float32
    """
    frames = _centred_frames(y, frame_length, hop_length).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=0))
    return (20.0 * np.log10(np.maximum(rms, amin))).astype(np.float32)


def _lag_correlation(frames: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Normalised correlation of each frame with itself shifted by given lags (>= 1):
    ``sum(a[:L-T] * a[T:]) / sqrt(sum(a[:L-T]**2) * sum(a[T:]**2))``, from one FFT per frame.

    ``frames`` has shape (L, n); ``lags`` (k, n), k lags per frame; returns (k, n).
    """
    import scipy.fft

    length, n = frames.shape
    nfft = scipy.fft.next_fast_len(2 * length, real=True)
    out = np.zeros(lags.shape, dtype=np.float64)
    for start in range(0, n, 1024):  # bounded memory on long inputs
        f = np.ascontiguousarray(frames[:, start:start + 1024].T, dtype=np.float64)  # (m, L)
        rows = np.arange(f.shape[0])[None, :]
        lag = lags[:, start:start + 1024]  # (k, m)
        spec = scipy.fft.rfft(f, n=nfft, axis=1)
        acf = scipy.fft.irfft(spec.real**2 + spec.imag**2, n=nfft, axis=1)  # acf[:, k]: lag k
        energy = np.cumsum(f * f, axis=1)  # energy[:, m] = sum(a[:m + 1] ** 2)
        head = energy[rows, length - lag - 1]  # sum(a[:L-T] ** 2)
        tail = energy[rows, -1] - energy[rows, lag - 1]  # sum(a[T:] ** 2)
        den = np.sqrt(np.maximum(head, 0.0) * np.maximum(tail, 0.0))
        num = acf[rows, lag]
        part = np.zeros(lag.shape, dtype=np.float64)
        np.divide(num, den, out=part, where=den > 1e-20)
        out[:, start:start + 1024] = np.clip(part, -1.0, 1.0)
    return out


def pitch_yin(y: np.ndarray, sr: int, *, fmin: float = 60.0, fmax: float = 500.0,
              frame_length: int = 800, hop_length: int = 160,
              trough_threshold: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """F0 candidates by YIN and a periodicity score per frame, for a voicing decision.

    ``librosa.yin`` gives an F0 estimate in every frame (voiced or not). The periodicity is the
    normalised autocorrelation of the frame at the estimated period (the better of the two
    integer lags around ``sr / f0``): near 1 for a periodic frame, near 0 for noise and silence
    (Praat's voicing measure; Praat calls a frame voiced above 0.45). Both use the same frames,
    ``frame_length`` long, centred on ``t * hop_length``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int
    fmin, fmax : float
        F0 search range in Hz; ``sr / fmin`` must be below ``frame_length / 2``.
    frame_length, hop_length : int
        Even frame length and hop in samples.
    trough_threshold : float
        YIN's absolute threshold.

    Returns
    -------
    f0 : np.ndarray [shape=(1 + n // hop_length,)], float32, Hz, within ``[fmin, fmax]``
    periodicity : np.ndarray [shape=(1 + n // hop_length,)], float32, in ``[-1, 1]``
    """
    import librosa

    f0 = librosa.yin(y, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length,
                     hop_length=hop_length, trough_threshold=trough_threshold, center=True,
                     pad_mode="constant")
    f0 = np.clip(np.nan_to_num(f0, nan=fmin), fmin, fmax)
    frames = _centred_frames(y, frame_length, hop_length)
    period = sr / f0.astype(np.float64)
    lo = np.clip(np.floor(period).astype(np.int64), 1, frame_length - 1)
    hi = np.clip(lo + 1, 1, frame_length - 1)
    periodicity = _lag_correlation(frames, np.stack([lo, hi])).max(axis=0)
    return f0.astype(np.float32), periodicity.astype(np.float32)


def check_mel_options(*, sample_rate: int, n_fft: int, hop_length: int, n_mels: int,
                      fmin: float, fmax: float | None, win_length: int | None = None) -> None:
    """Raise :class:`ConfigError` for STFT/mel options that cannot work together: a window or
    hop below 1, ``fmin``/``fmax`` outside ``[0, Nyquist]``, or mel bands with no FFT bin."""
    if n_mels < 1:
        raise ConfigError(f"n_mels must be >= 1, got {n_mels}")
    if n_fft < 2 or hop_length < 1:
        raise ConfigError(f"n_fft must be >= 2 and hop_length >= 1, got {n_fft}, {hop_length}")
    if win_length is not None and not 1 <= win_length <= n_fft:
        raise ConfigError(f"win_length must be in [1, n_fft={n_fft}], got {win_length}")
    top = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < top <= sample_rate / 2:
        raise ConfigError(f"need 0 <= fmin < fmax <= {sample_rate / 2:g} Hz, got "
                          f"fmin={fmin}, fmax={fmax}")
    empty = empty_mel_bands(sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    if empty:
        raise ConfigError(f"{len(empty)} of the {n_mels} mel bands hold no FFT bin (first: band "
                          f"{empty[0]}); use fewer n_mels or a larger n_fft")
