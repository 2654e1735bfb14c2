"""Object perception from one RGB-D frame of the head camera and the robot's own pose estimate.

Pixels of a saturated colour are grouped by colour class and connectivity; each blob's valid depth
pixels are lifted to 3D points in the camera's optical frame and moved to the world with the
camera pose that the robot's kinematics give (estimated base pose + joint encoders). An object's
top is the highest band of its points; its centre in x and y is the middle of their extent (seen
from above, a top face shows whole, its near part in more pixels than its far part). The surface
it rests on is read from the depth just around the blob (not from its own sides in shadow, which
are too dark to join the blob but still of its colour), so its height and the centre's z follow.
Nothing here reads the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from laoshan.port.messages import R_LINK_OPTICAL, RgbdFrame

# Colour classes by hue band [deg]; a pixel must also be saturated and bright enough.
COLOURS: dict[str, tuple[tuple[float, float], ...]] = {
    "red": ((0.0, 15.0), (340.0, 360.0)),
    "orange": ((18.0, 40.0),),
    "yellow": ((45.0, 70.0),),
    "green": ((90.0, 160.0),),
    "blue": ((190.0, 250.0),),
    "purple": ((265.0, 320.0),),
}


@dataclass(frozen=True)
class PerceptionConfig:
    min_saturation: float = 0.6      # the table (wood, about 0.5) and the floor (grey) stay out
    min_value: float = 0.15
    min_pixels: int = 30             # smaller blobs are noise or too far to grasp
    top_band_m: float = 0.005        # points this close below the highest count as the top (thin: the
                                     # upper rim of a face seen from the side would pull the centre)
    ring_px: int = 4                 # the support surface is read this far around the blob


@dataclass(frozen=True)
class Detection:
    colour: str
    p_world_m: NDArray[np.float64]     # centre (world frame)
    size_m: NDArray[np.float64]        # extent of the seen points in x and y (world), and height
    top_size_m: NDArray[np.float64]    # extent of its top band in x and y (a ball's top is a small cap)
    support_z_m: float                 # height of the surface under it (world)
    bottom_z_m: float                  # its lowest seen point (world; a held object's top or bottom may be hidden)
    pixels: int
    time_s: float                      # when the image was taken
    points_m: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))   # its seen points (world)
    clipped: bool = False              # the blob touches the image's border: part of it may be out of view

    def round_centre(self, kind: str, radius_m: float) -> NDArray[np.float64]:
        """Where the axis of an upright cylinder (xy) or the centre of a ball (xyz) of this radius
        lies (world): a circle fitted to the cylinder's side (its points below the top), a sphere to
        the ball's points. Only the near side of a round object is seen, so the centre lies behind
        the middle of what is seen; a hand hiding part of it does not bias the fit."""
        if kind == "cylinder":
            side = self.points_m[self.points_m[:, 2] < self.points_m[:, 2].max() - 0.01]
            return fit_round(side[:, :2], radius_m)
        if kind == "sphere":
            return fit_round(self.points_m, radius_m)
        raise ValueError(f"only cylinders and spheres are round, not {kind!r}")

    def top_face(self, band_m: float = 0.008,
                 inlier_m: float = 0.001) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The flat top face of an object (a peg's end, a box's lid), seen from above: its centre
        (the middle of its points) and its upward unit normal (world), from a plane fitted to the
        points within ``band_m`` of the highest, refitted to those within ``inlier_m`` of the
        plane (the upper rim of the sides drops out)."""
        top = self.points_m[self.points_m[:, 2] > self.points_m[:, 2].max() - band_m]
        for _ in range(5):
            if len(top) < 3:
                raise ValueError(f"the {self.colour} object shows too little of its top to fit a plane")
            A = np.c_[top[:, :2], np.ones(len(top))]
            coef = np.linalg.lstsq(A, top[:, 2], rcond=None)[0]
            residual = top[:, 2] - A @ coef
            top = top[np.abs(residual) < max(inlier_m, 2.0 * float(residual.std()))]
        normal = np.array([-coef[0], -coef[1], 1.0])
        return top.mean(axis=0), normal / np.linalg.norm(normal)


def hue_saturation_value(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.float64], ...]:
    """Hue [deg], saturation and value [0, 1] of an (H, W, 3) image."""
    c = rgb.astype(np.float64) / 255.0
    v = c.max(axis=2)
    span = v - c.min(axis=2)
    s = np.where(v > 0, span / np.maximum(v, 1e-9), 0.0)
    r, g, b = c[..., 0], c[..., 1], c[..., 2]
    safe = np.maximum(span, 1e-9)
    h = np.where(v == r, (g - b) / safe % 6, np.where(v == g, (b - r) / safe + 2, (r - g) / safe + 4)) * 60.0
    return np.where(span > 0, h, 0.0), s, v


def detect_objects(frame: RgbdFrame, X_world_link: NDArray[np.float64],
                   config: PerceptionConfig | None = None) -> list[Detection]:
    """Coloured objects in ``frame``; ``X_world_link`` (4x4) is the camera mount link's pose as the
    robot estimates it. Largest blobs first."""
    c = config or PerceptionConfig()
    R = X_world_link[:3, :3] @ R_LINK_OPTICAL
    p = X_world_link[:3, 3]
    h, s, v = hue_saturation_value(frame.rgb)
    vivid = (s >= c.min_saturation) & (v >= c.min_value)
    found = []
    for colour, bands in COLOURS.items():
        in_band = np.zeros_like(vivid)
        for lo, hi in bands:
            in_band |= (h >= lo) & (h < hi)
        labels, n = ndimage.label(vivid & in_band)
        shade = in_band & (s >= c.min_saturation)     # its own sides in shadow: too dark for a blob, not support
        for k in range(1, n + 1):
            blob = labels == k
            if blob.sum() < c.min_pixels:
                continue
            points = frame.optical_points(blob) @ R.T + p
            ring = ndimage.binary_dilation(blob, iterations=c.ring_px) & ~ndimage.binary_dilation(blob, iterations=1)
            around = frame.optical_points(ring & ~vivid & ~shade) @ R.T + p
            if len(points) < c.min_pixels or len(around) == 0:
                continue
            top_z = float(np.percentile(points[:, 2], 95))
            top = points[points[:, 2] >= top_z - c.top_band_m]
            below = around[around[:, 2] < top_z - c.top_band_m]        # the table, not the wall behind
            # it rests on the highest surface around it (a table's edge may show the floor too)
            support = float(np.percentile(below[:, 2], 90)) if len(below) else float(points[:, 2].min())
            lo, hi = np.percentile(top[:, :2], 2, axis=0), np.percentile(top[:, :2], 98, axis=0)
            centre = np.array([*(lo + hi) / 2, (top_z + support) / 2])
            extent = np.ptp(points[:, :2], axis=0)
            clipped = bool(blob[0].any() or blob[-1].any() or blob[:, 0].any() or blob[:, -1].any())
            found.append(Detection(colour, centre, np.array([*extent, top_z - support]), hi - lo, support,
                                   float(np.percentile(points[:, 2], 5)), int(blob.sum()), frame.time_s, points,
                                   clipped))
    return sorted(found, key=lambda d: -d.pixels)


def fit_round(points: NDArray[np.float64], radius_m: float, iterations: int = 20) -> NDArray[np.float64]:
    """Centre of the circle (2-D points) or sphere (3-D points) of ``radius_m`` the points lie on,
    in least squares (Gauss-Newton from their middle)."""
    if len(points) < 4 or not radius_m > 0:
        raise ValueError("a round fit needs at least 4 points and a positive radius")
    c = points.mean(axis=0)
    for _ in range(iterations):
        d = points - c
        r = np.maximum(np.linalg.norm(d, axis=1), 1e-9)
        step = np.linalg.lstsq(-d / r[:, None], radius_m - r, rcond=None)[0]   # J = d(|p - c| - R)/dc
        c = c + step
        if float(np.linalg.norm(step)) < 1e-6:
            break
    return c


def near_edge_x(frame: RgbdFrame, X_world_link: NDArray[np.float64], surface_z_m: float,
                y_window_m: tuple[float, float], band_m: float = 0.008) -> float | None:
    """Where the near edge (smallest x, world) of a level surface at ``surface_z_m`` (a table top)
    is seen between ``y_window_m``; None if too little of it is in view. A fixture whose edge is on
    the map tells the robot how far its odometry has drifted along x."""
    mid, half = (y_window_m[0] + y_window_m[1]) / 2, (y_window_m[1] - y_window_m[0]) / 2
    seen = near_edge_ahead(frame, X_world_link, surface_z_m, (0.0, mid), 0.0, half, band_m)
    return None if seen is None else seen[0]


def near_edge_ahead(frame: RgbdFrame, X_world_link: NDArray[np.float64], surface_z_m: float,
                    origin_xy_m: tuple[float, float] | NDArray[np.float64], yaw_rad: float, half_width_m: float,
                    band_m: float = 0.008, search_m: float = 0.0) -> tuple[float, float] | None:
    """How far ahead of ``origin_xy_m`` along ``yaw_rad`` (world) the near edge of a level surface
    (a table top) is seen, within ``half_width_m`` to either side, and the surface's height as
    seen: (ahead [m], z [m]); None if too little of it is in view. The surface is at
    ``surface_z_m``, or, with ``search_m``, where most points within that much of it are (the
    robot's estimate of its own height drifts as it walks): the 1 cm slice holding most of them."""
    points = world_points(frame, X_world_link)
    ahead_dir = np.array([np.cos(yaw_rad), np.sin(yaw_rad)])
    d = points[:, :2] - np.asarray(origin_xy_m, dtype=float)
    ahead, side = d @ ahead_dir, d @ np.array([-ahead_dir[1], ahead_dir[0]])
    window = np.abs(side) < half_width_m
    z = surface_z_m
    if search_m > 0:
        near = points[window & (np.abs(points[:, 2] - surface_z_m) < search_m), 2]
        if len(near) < 100:
            return None
        counts, edges = np.histogram(near, bins=np.arange(surface_z_m - search_m, surface_z_m + search_m + 0.01, 0.01))
        k = int(np.argmax(counts))
        z = float(np.median(near[(near >= edges[k]) & (near < edges[k + 1])]))
    on = ahead[window & (np.abs(points[:, 2] - z) < band_m)]
    return (float(np.percentile(on, 1)), z) if len(on) >= 100 else None


def world_points(frame: RgbdFrame, X_world_link: NDArray[np.float64]) -> NDArray[np.float64]:
    """Every valid depth pixel of the frame as a point in the world [m], placed with the camera
    mount's pose ``X_world_link`` (as the robot estimates it)."""
    R = X_world_link[:3, :3] @ R_LINK_OPTICAL
    return frame.optical_points(np.ones(frame.depth_m.shape, dtype=bool)) @ R.T + X_world_link[:3, 3]


def square_hole(frame: RgbdFrame, X_world_link: NDArray[np.float64], near_xy_m: tuple[float, float],
                top_z_m: float, half_width_m: float, search_m: float = 0.03, band_m: float = 0.0015,
                min_edges: int = 5) -> NDArray[np.float64] | None:
    """The axis (x, y) [m, world] of a square hole, its sides along the world axes and about
    ``half_width_m`` from its axis (a chamfer widens it alike on every side), cut into a level top
    face at ``top_z_m``, seen within ``search_m`` of ``near_xy_m`` (where the map has it); None if
    too little of the top face around it is seen. ``X_world_link``: the camera mount's pose as the
    robot estimates it.

    The top's height is taken as seen (the median of the points within 6 mm of ``top_z_m``). Where
    a pixel on the top face (within ``band_m`` of that height) neighbours one that sees down into
    the hole (lower), the hole's edge lies between the two: midway between the first pixel's point
    and where the second pixel's ray crosses the top face's height, to within half a pixel's
    footprint.
    The hole's axis lies midway between the edge points of opposite sides (each side's median: over
    tens of pixels, the half pixel averages out), a point being on the side it is farthest out
    along from the axis found so far (first: the middle of the ring of edge points), and counted
    only between half and 1.6 times the half width out (not a stray edge farther out)."""
    R = X_world_link[:3, :3] @ R_LINK_OPTICAL
    origin = X_world_link[:3, 3]
    h, w = frame.depth_m.shape
    v, u = np.mgrid[0:h, 0:w]
    d = frame.depth_m.astype(np.float64)
    rays = np.stack([(u - frame.cx_px) / frame.fx_px, (v - frame.cy_px) / frame.fy_px, np.ones_like(d)], axis=-1) @ R.T
    points = origin + rays * d[..., None]                                  # (h, w, 3) world; depth 0: no return
    near = np.asarray(near_xy_m, dtype=float)
    around = (d > 0) & (np.abs(points[..., :2] - near).max(axis=-1) < half_width_m + search_m + 0.04)
    level = points[..., 2][around & (np.abs(points[..., 2] - top_z_m) < 0.006)]
    if len(level) < 20:
        return None
    top_z_m = float(np.median(level))            # the top's height as seen (the pose estimate is off by a mm or so)
    on_top = (d > 0) & (np.abs(points[..., 2] - top_z_m) < band_m)
    below = (d > 0) & (points[..., 2] < top_z_m - band_m)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = origin + rays * ((top_z_m - origin[2]) / rays[..., 2])[..., None]   # each ray at the top's height
    edges = []
    for dv, du in ((0, 1), (1, 0)):                  # neighbours along image rows and columns, both ways round
        a, b = (slice(0, h - dv), slice(0, w - du)), (slice(dv, h), slice(du, w))
        for top_side, hole_side in ((a, b), (b, a)):
            pair = on_top[top_side] & below[hole_side]
            on, into = points[top_side][pair][:, :2], crossing[hole_side][pair][:, :2]
            # an edge of the hole, not the face's outer edge: the side seen lower lies toward the hole
            inward = np.abs(into - near).max(axis=1) < np.abs(on - near).max(axis=1)
            edges.append(((on + into) / 2)[inward])
    edge = np.concatenate(edges)
    edge = edge[np.abs(edge - near).max(axis=1) < half_width_m + search_m + 0.01]
    if len(edge) < 4 * min_edges:
        return None
    centre = (np.percentile(edge, 5, axis=0) + np.percentile(edge, 95, axis=0)) / 2   # the ring's middle, roughly
    for _ in range(4):
        offset = edge - centre
        along = np.abs(offset).argmax(axis=1)                          # which pair of sides each point is on
        out = np.abs(offset).max(axis=1)                                # ... and how far out
        moved = centre.copy()
        for axis in (0, 1):
            side = edge[(along == axis) & (out > 0.5 * half_width_m) & (out < 1.6 * half_width_m)]
            low, high = side[side[:, axis] < centre[axis], axis], side[side[:, axis] > centre[axis], axis]
            if len(low) < min_edges or len(high) < min_edges:
                return None
            inner_low, inner_high = np.median(low), np.median(high)
            if not 1.5 * half_width_m < inner_high - inner_low < 3.0 * half_width_m:
                return None                  # not a hole of this size: something else is there
            moved[axis] = (inner_low + inner_high) / 2
        if np.linalg.norm(moved - near) > search_m + half_width_m / 2:
            return None
        centre = moved
    return centre
