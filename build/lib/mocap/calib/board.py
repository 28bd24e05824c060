"""Calibration targets: checkerboards and ChArUco boards, their detection and printable images.

A board is described by a small TOML file (see ``calib/*.toml``)::

    [board]
    kind = "charuco"            # or "checkerboard"
    squares = [5, 7]            # squares along x (columns) and y (rows)
    square_mm = 40.0
    marker_mm = 30.0            # charuco only
    dictionary = "DICT_4X4_50"  # charuco only

Pose2Sim's ``Config.toml`` (``intrinsics_corners_nb = [4, 7]`` inner corners, ``intrinsics_square_size``
in mm) is read as a checkerboard too. A checkerboard with an odd number of squares along one side
and an even number along the other has a unique orientation (square (0, 0) is black, checked on
every detection); an odd x odd one is symmetric and may be found rotated by 180 degrees —
harmless for intrinsics, but use ChArUco (or an even x odd board) for multi-camera extrinsics. Object points are the inner corners in the board plane (z = 0),
metres, row-major from the first corner; corner ``ids`` index them (a checkerboard is found whole
or not at all, a ChArUco board partly).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import MocapError
from ..io.atomic import atomic_path


@dataclass(frozen=True)
class Board:
    """kind: "checkerboard" | "charuco"; squares: (columns, rows) of squares; sizes in metres."""

    kind: str
    squares: tuple[int, int]
    square: float
    marker: float = 0.0
    dictionary: str = "DICT_4X4_50"

    def __post_init__(self):
        if self.kind not in ("checkerboard", "charuco"):
            raise MocapError(f"unknown board kind {self.kind!r} (checkerboard or charuco)")
        if min(self.squares) < 2 or self.square <= 0:
            raise MocapError(f"a board needs at least 2 x 2 squares of positive size, got {self.squares}, "
                             f"{self.square * 1000:g} mm")
        if self.kind == "charuco" and not 0 < self.marker < self.square:
            raise MocapError("a ChArUco marker must be smaller than its square")
        if self.kind == "charuco" and not (self.dictionary.startswith("DICT_") and hasattr(cv2.aruco, self.dictionary)):
            known = ", ".join(n for n in dir(cv2.aruco) if n.startswith("DICT_") and not n.endswith("_ORIGINAL"))
            raise MocapError(f"unknown ArUco dictionary {self.dictionary!r} (known: {known})")

    @property
    def inner(self) -> tuple[int, int]:
        """Inner corners (columns, rows)."""
        return self.squares[0] - 1, self.squares[1] - 1

    @property
    def object_points(self) -> np.ndarray:
        """``(N, 3)`` inner corners in the board frame, metres (z = 0), row-major."""
        nx, ny = self.inner
        g = np.stack(np.meshgrid(np.arange(nx), np.arange(ny)), -1).reshape(-1, 2) * self.square
        return np.concatenate([g, np.zeros((len(g), 1))], 1)

    @property
    def size_m(self) -> tuple[float, float]:
        return self.squares[0] * self.square, self.squares[1] * self.square

    def describe(self) -> str:
        nx, ny = self.inner
        extra = f", markers {self.marker * 1000:g} mm {self.dictionary}" if self.kind == "charuco" else ""
        return f"{self.kind} {self.squares[0]}x{self.squares[1]} squares ({nx}x{ny} inner corners), " \
               f"{self.square * 1000:g} mm{extra}"

    def _charuco(self):
        d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        return cv2.aruco.CharucoBoard(self.squares, self.square, self.marker, d)

    def detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Corners ``(N, 2)`` px (sub-pixel) and their ``ids (N,)`` in one image, or None."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if self.kind == "charuco":
            corners, ids, _, _ = cv2.aruco.CharucoDetector(self._charuco()).detectBoard(gray)
            if ids is None or len(ids) < 6:
                return None
            return corners.reshape(-1, 2).astype(float), ids.ravel().astype(int)
        pattern = self.inner
        ok, c = cv2.findChessboardCornersSB(gray, pattern, cv2.CALIB_CB_EXHAUSTIVE | cv2.CALIB_CB_ACCURACY)
        if not ok:
            flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
            ok, c = cv2.findChessboardCorners(gray, pattern, flags)
            if not ok:
                return None
            win = max(3, int(0.25 * _corner_spacing(c.reshape(-1, 2), pattern)))
            c = cv2.cornerSubPix(gray, c, (win, win), (-1, -1),
                                 (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-3))
        c = c.reshape(-1, 2).astype(float)
        if _first_square_white(gray, c, pattern):  # found rotated by 180 degrees: square (0, 0) is black
            c = c[::-1].copy()
        return c, np.arange(pattern[0] * pattern[1])

    def image(self, px_per_mm: float = 4.0, margin_mm: float = 10.0) -> np.ndarray:
        """Printable grey image (uint8) of the board with a white margin."""
        w, h = (int(round(s * 1000 * px_per_mm)) for s in self.size_m)
        m = int(round(margin_mm * px_per_mm))
        if self.kind == "charuco":
            board = self._charuco().generateImage((w, h), marginSize=0, borderBits=1)
        else:
            sq = self.square * 1000 * px_per_mm
            yy, xx = np.mgrid[0:h, 0:w]
            board = np.where(((xx // sq).astype(int) + (yy // sq).astype(int)) % 2 == 0, 0, 255).astype(np.uint8)
        return cv2.copyMakeBorder(board, m, m, m, m, cv2.BORDER_CONSTANT, value=255)

    def save(self, path: str | Path, dpi: float = 300.0, margin_mm: float = 10.0) -> None:
        """Write a printable target: ``.png`` at ``dpi`` (its DPI stored) or ``.pdf`` at true size."""
        path = Path(path)
        img = self.image(dpi / 25.4, margin_mm)
        with atomic_path(path) as tmp:
            if path.suffix.lower() == ".pdf":
                from PIL import Image
                Image.fromarray(img).save(tmp, "PDF", resolution=dpi)
            elif path.suffix.lower() == ".png":
                from PIL import Image
                Image.fromarray(img).save(tmp, "PNG", dpi=(dpi, dpi))
            else:
                raise MocapError("board image must be .png or .pdf", path)


def _first_square_white(gray: np.ndarray, c: np.ndarray, pattern) -> bool:
    """Is the square diagonally before corner 0 lighter than the one diagonally after the last
    corner? On a board with an even x odd count of squares these differ in colour, which fixes
    the 180-degree ambiguity; on odd x odd boards (symmetric) both are black and nothing changes."""
    nx, ny = pattern
    g = c.reshape(ny, nx, 2)

    def sample(p):
        x, y = int(round(p[0])), int(round(p[1]))
        h, w = gray.shape
        return float(gray[min(max(y, 0), h - 1), min(max(x, 0), w - 1)])

    first = g[0, 0] - 0.5 * (g[0, 1] - g[0, 0]) - 0.5 * (g[1, 0] - g[0, 0])
    last = g[-1, -1] + 0.5 * (g[-1, -1] - g[-1, -2]) + 0.5 * (g[-1, -1] - g[-2, -1])
    return sample(first) > sample(last) + 40


def _corner_spacing(c: np.ndarray, pattern) -> float:
    return float(np.median(np.linalg.norm(np.diff(c.reshape(pattern[1], pattern[0], 2), axis=1), axis=-1)))


def read_board(path: str | Path) -> Board:
    """A board file (``[board]`` table) or a Pose2Sim ``Config.toml`` (its intrinsics checkerboard)."""
    path = Path(path)
    try:
        cfg = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MocapError(f"cannot read board file: {e}", path) from None
    try:
        if "board" in cfg:
            b = cfg["board"]
            return Board(str(b.get("kind", "checkerboard")), tuple(int(v) for v in b["squares"]),
                         float(b["square_mm"]) / 1000, float(b.get("marker_mm", 0.0)) / 1000,
                         str(b.get("dictionary", "DICT_4X4_50")))
        intr = cfg["calibration"]["calculate"]["intrinsics"]
        nx, ny = (int(v) for v in intr["intrinsics_corners_nb"])
        return Board("checkerboard", (nx + 1, ny + 1), float(intr["intrinsics_square_size"]) / 1000)
    except (KeyError, TypeError, ValueError) as e:
        raise MocapError(f"not a board description ([board] with kind, squares, square_mm; or a Pose2Sim "
                         f"Config.toml): missing or bad {e}", path) from None
    except MocapError as e:
        raise MocapError(e.cause, path) from None
