"""Face detection with a detector that ships inside a package: OpenCV's Haar cascades.

``opencv-python-headless`` carries the classic frontal-face cascades in ``cv2.data``; nothing is
downloaded. (Its 5.x wheels no longer ship them, hence the pinned 4.x; the YuNet DNN detector
needs an ONNX file that no wheel carries.) A cascade finds frontal, upright faces: the
acted-emotion corpora film actors facing the camera, which is what it is good at.

>>> det = FaceDetector()                                   # doctest: +SKIP
>>> det.detect(grey_image)                                 # doctest: +SKIP
array([[212.,  80., 151., 151.]])                          # x, y, w, h per face
>>> boxes = detect_faces(frames, detector=det)             # (n, 4), NaN where none
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emoscope.errors import ConfigError

__all__ = ["CASCADES", "FaceDetector", "detect_faces"]

#: Detector names -> the OpenCV cascade file (in ``cv2.data.haarcascades``).
CASCADES: dict[str, str] = {
    "haar-default": "haarcascade_frontalface_default.xml",
    "haar-alt": "haarcascade_frontalface_alt.xml",
    "haar-alt2": "haarcascade_frontalface_alt2.xml",
}

_LOADED: dict[str, Any] = {}


def _cascade(name: str) -> Any:
    """The loaded ``cv2.CascadeClassifier`` called ``name`` (memoised per process)."""
    if name not in CASCADES:
        raise ConfigError(f"unknown face detector {name!r}; choose from {', '.join(CASCADES)}")
    hit = _LOADED.get(name)
    if hit is not None:
        return hit
    import cv2

    path = Path(cv2.data.haarcascades) / CASCADES[name]
    clf = cv2.CascadeClassifier(str(path))
    if clf.empty():
        raise ConfigError(f"{path}: OpenCV's bundled cascade is missing or unreadable; "
                          "install opencv-python-headless 4.x")
    _LOADED[name] = clf
    return clf


class FaceDetector:
    """Frontal faces in a grey image, with one of OpenCV's bundled Haar cascades.

    Parameters
    ----------
    name : str
        A key of :data:`CASCADES` (``"haar-default"``, ``"haar-alt"``, ``"haar-alt2"``).
    scale_factor : float
        Step between the image pyramid's scales (> 1; smaller finds more, slower).
    min_neighbors : int
        Overlapping raw detections a face needs (higher: fewer false faces).
    min_face : float
        Smallest face searched, as a fraction of the image's shorter side (0 < f <= 1).
    """

    def __init__(self, name: str = "haar-default", *, scale_factor: float = 1.1,
                 min_neighbors: int = 4, min_face: float = 0.15) -> None:
        if not scale_factor > 1.0:
            raise ConfigError(f"scale_factor must be > 1, got {scale_factor}")
        if min_neighbors < 0:
            raise ConfigError(f"min_neighbors must be >= 0, got {min_neighbors}")
        if not 0.0 < min_face <= 1.0:
            raise ConfigError(f"min_face must be in (0, 1], got {min_face}")
        self.name = name
        self.scale_factor, self.min_neighbors, self.min_face = (scale_factor, min_neighbors,
                                                                 min_face)
        self._clf = _cascade(name)

    def __repr__(self) -> str:
        return (f"FaceDetector({self.name!r}, scale_factor={self.scale_factor}, "
                f"min_neighbors={self.min_neighbors}, min_face={self.min_face})")

    def detect(self, grey: np.ndarray) -> np.ndarray:
        """Every face found in one image.

        Parameters
        ----------
        grey : np.ndarray [shape=(H, W)], uint8

        Returns
        -------
        np.ndarray [shape=(k, 4)], float64
            ``x, y, w, h`` (pixels, top-left corner and size) of each face, largest first;
            ``k = 0`` when there is none.
        """
        img = np.asarray(grey)
        if img.ndim != 2 or img.dtype != np.uint8:
            raise ConfigError(f"detect needs a grey uint8 image (H, W), got {img.dtype} "
                              f"{img.shape}")
        side = max(1, round(self.min_face * min(img.shape)))
        found = self._clf.detectMultiScale(img, scaleFactor=self.scale_factor,
                                           minNeighbors=self.min_neighbors,
                                           minSize=(side, side))
        boxes = np.asarray(found, dtype=np.float64).reshape(-1, 4)
        order = np.argsort(-(boxes[:, 2] * boxes[:, 3]), kind="stable")
        return boxes[order]


def detect_faces(frames: np.ndarray, *, detector: FaceDetector,
                 shown: np.ndarray | None = None) -> np.ndarray:
    """The main face of each frame: the largest one detected.

    Parameters
    ----------
    frames : np.ndarray [shape=(n, H, W, 3)], uint8 RGB
    detector : FaceDetector
    shown : np.ndarray [shape=(n,)], bool, optional
        Frames to search (the others, blank padding, get no face).

    Returns
    -------
    np.ndarray [shape=(n, 4)], float64
        ``x, y, w, h`` per frame; a row of NaN where no face was found.
    """
    import cv2

    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise ConfigError(f"frames must be uint8 RGB of shape (n, H, W, 3), got {arr.dtype} "
                          f"{arr.shape}")
    out = np.full((len(arr), 4), np.nan)
    for i, frame in enumerate(arr):
        if shown is not None and not shown[i]:
            continue
        grey = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
        boxes = detector.detect(grey)
        if len(boxes):
            out[i] = boxes[0]
    return out
