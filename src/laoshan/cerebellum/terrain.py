"""The ground around the robot as its own depth camera saw it: a height map in the estimator's world frame.

Each depth frame is turned into points with the camera's pose from the *estimated* state (the
estimator's base pose and the measured joint angles), and every grid cell a frame sees takes the
highest point that fell in it (a step's top, not its riser). Points near the base or a foot are
the robot's own body and legs and are left out (that ground was seen from further back). The
newest frame overwrites what an older one said about a cell, so the map follows the robot's
drift with it. The map is a square window that re-centres itself on
the robot as it walks; cells no frame has seen are unknown (NaN), and what uses the map falls back
to the ground under the stance feet there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from laoshan.port.messages import R_LINK_OPTICAL, RgbdFrame

FloatArray = np.ndarray


@dataclass(frozen=True)
class HeightMapConfig:
    cell_m: float = 0.02              # grid resolution
    size_m: float = 6.0               # side of the square window kept around the robot
    stride_px: int = 3                # every stride-th pixel of a frame, in both directions
    max_range_m: float = 3.0          # returns farther than this are too coarse to step on
    body_radius_m: float = 0.4        # points this close (horizontally) to the base are the robot's own body ...
    feet_clearance_m: float = 0.18    # ... or to a foot, its own leg (that ground was seen from further back)
    max_rise_m: float = 0.6           # points this far above the feet are not ground (walls, tables, people)

    def __post_init__(self) -> None:
        if not 0.005 <= self.cell_m <= 0.2:
            raise ValueError(f"cell_m={self.cell_m} must be in [0.005, 0.2] m")
        if self.size_m < 20 * self.cell_m:
            raise ValueError("size_m must span at least 20 cells")


class HeightMap:
    """Ground height [m] per cell of a square window (world frame), from depth frames."""

    def __init__(self, config: HeightMapConfig | None = None) -> None:
        self.config = c = config or HeightMapConfig()
        self.n = int(round(c.size_m / c.cell_m))
        self.z = np.full((self.n, self.n), np.nan)
        self.origin_xy = np.array([-c.size_m / 2, -c.size_m / 2])   # world xy of cell (0, 0)'s corner
        self.last_frame_s: float | None = None

    def _recentre(self, xy: FloatArray) -> None:
        """Shift the window (by whole cells) so that ``xy`` is near its middle."""
        c = self.config
        offset = np.floor((xy - self.origin_xy) / c.cell_m).astype(int) - self.n // 2
        if np.all(np.abs(offset) < self.n // 4):
            return
        shifted = np.full_like(self.z, np.nan)
        src = [slice(max(o, 0), self.n + min(o, 0)) for o in offset]
        dst = [slice(max(-o, 0), self.n + min(-o, 0)) for o in offset]
        shifted[dst[0], dst[1]] = self.z[src[0], src[1]]
        self.z = shifted
        self.origin_xy = self.origin_xy + offset * c.cell_m

    def add(self, frame: RgbdFrame, X_world_link: FloatArray, p_world_base: FloatArray,
            feet_world: list[FloatArray]) -> None:
        """Fold in a depth frame taken with the camera mount link at ``X_world_link`` (4x4), the
        base at ``p_world_base`` and the feet at ``feet_world`` (positions, (3,) each)."""
        c = self.config
        feet = np.array(feet_world)
        self._recentre(feet[:, :2].mean(axis=0))
        mask = np.zeros(frame.depth_m.shape, dtype=bool)
        mask[::c.stride_px, ::c.stride_px] = True
        mask &= frame.depth_m < c.max_range_m
        points = frame.optical_points(mask) @ (X_world_link[:3, :3] @ R_LINK_OPTICAL).T + X_world_link[:3, 3]
        own = np.hypot(*(points[:, :2] - p_world_base[:2]).T) < c.body_radius_m
        for foot in feet:
            own |= np.hypot(*(points[:, :2] - foot[:2]).T) < c.feet_clearance_m
        points = points[~own & (points[:, 2] < feet[:, 2].min() + c.max_rise_m)]
        ij = np.floor((points[:, :2] - self.origin_xy) / c.cell_m).astype(int)
        inside = np.all((ij >= 0) & (ij < self.n), axis=1)
        ij, heights = ij[inside], points[inside, 2]
        seen = np.full_like(self.z, -np.inf)
        np.maximum.at(seen, (ij[:, 0], ij[:, 1]), heights)
        fresh = np.isfinite(seen)
        self.z[fresh] = seen[fresh]
        self.last_frame_s = frame.time_s

    def patch_points(self, xy: FloatArray, yaw_rad: float, half_length_m: float,
                     half_width_m: float) -> FloatArray:
        """(n, 3) known cells (x, y, height) under a rectangle (a sole) centred at ``xy``, turned
        by ``yaw_rad`` (empty if none is known)."""
        c = self.config
        u = np.arange(-half_length_m, half_length_m + 1e-9, c.cell_m)
        v = np.arange(-half_width_m, half_width_m + 1e-9, c.cell_m)
        uu, vv = np.meshgrid(u, v)
        cos, sin, uu, vv = np.cos(yaw_rad), np.sin(yaw_rad), uu.ravel(), vv.ravel()
        pts = np.column_stack([xy[0] + cos * uu - sin * vv, xy[1] + sin * uu + cos * vv])
        ij = np.floor((pts - self.origin_xy) / c.cell_m).astype(int)
        inside = np.all((ij >= 0) & (ij < self.n), axis=1)
        pts, ij = pts[inside], ij[inside]
        heights = self.z[ij[:, 0], ij[:, 1]]
        known = np.isfinite(heights)
        return np.column_stack([pts[known], heights[known]])

    def patch(self, xy: FloatArray, yaw_rad: float, half_length_m: float, half_width_m: float) -> FloatArray:
        """Known heights of the cells under a rectangle (a sole) centred at ``xy``, turned by
        ``yaw_rad`` (empty if none is known)."""
        return self.patch_points(xy, yaw_rad, half_length_m, half_width_m)[:, 2]

    def uneven(self, xy: FloatArray, yaw_rad: float, half_length_m: float, half_width_m: float,
               rise_m: float) -> bool:
        """Whether the ground under the rectangle is not one plane: the heights depart from the
        plane that fits them best by more than ``rise_m`` (2nd to 98th percentile, so a few
        noisy cells are not an edge; a ramp is one plane). Unknown ground is not uneven."""
        points = self.patch_points(xy, yaw_rad, half_length_m, half_width_m)
        if len(points) < 6:
            return False
        A = np.column_stack([np.ones(len(points)), points[:, 0] - xy[0], points[:, 1] - xy[1]])
        fit, *_ = np.linalg.lstsq(A, points[:, 2], rcond=None)
        low, high = np.percentile(points[:, 2] - A @ fit, [2, 98])
        return float(high - low) > rise_m

    def height(self, xy: FloatArray, radius_m: float = 0.03) -> float | None:
        """Ground height near ``xy`` (the highest known cell within ``radius_m``); None if unknown."""
        heights = self.patch(np.asarray(xy, dtype=float), 0.0, radius_m, radius_m)
        return float(heights.max()) if len(heights) else None
