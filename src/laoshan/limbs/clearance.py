"""The arm's clearance, compiled (numba): its capsules as chains of spheres placed by the arm's
forward kinematics (:mod:`laoshan.limbs.arm_chain`), and their signed distances [m] to boxes and
to the still body's capsules, for one posture, a batch, or along a straight joint-space edge.

An edge check needs only whether every posture keeps a margin, so it skips a capsule's spheres
wherever a sphere bounding the whole capsule keeps it, and stops at the first posture that does
not. The geometry is set up by :class:`laoshan.limbs.collision.ArmCollision`; these functions hold
no state.

The arm's capsule k has its ends either on a joint of the chain (``a_chain[k]``/``b_chain[k]`` >=
0: point ``pa[k]``/``pb[k]`` in that joint's frame) or fixed in the world (``a_world[k]``/
``b_world[k]``), radius ``cap_radius[k]``, and ``cap_body[k]``: checked against the body too; its
spheres are ``cap_start[k]`` to ``cap_start[k + 1]``, sphere s at fraction ``frac[s]`` along it.
The still body's capsule c runs from ``body_a[c]`` along ``body_ab[c]`` (squared length
``body_ab2[c]``), radius ``body_r[c]``. Boxes: centres ``box_c``, half sizes ``box_h`` (world axes).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from laoshan.limbs.arm_chain import chain_frames

BODY = -1    # what is nearest: the body (else the index of the box)


@numba.njit(cache=True)
def _capsule_ends(q: np.ndarray, R0: np.ndarray, t0: np.ndarray, Rp: np.ndarray, RpK: np.ndarray,
                  RpK2: np.ndarray, tp: np.ndarray, a_chain: np.ndarray, b_chain: np.ndarray, pa: np.ndarray,
                  pb: np.ndarray, a_world: np.ndarray, b_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The arm's capsule ends A, B (k, 3, world) at posture q."""
    n = q.shape[0]
    R = np.empty((n, 3, 3))
    t = np.empty((n, 3))
    chain_frames(q, R0, t0, Rp, RpK, RpK2, tp, R, t)
    A, B = a_world.copy(), b_world.copy()
    for k in range(a_chain.shape[0]):
        for chain, p, out in ((a_chain[k], pa[k], A[k]), (b_chain[k], pb[k], B[k])):
            if chain >= 0:
                for r in range(3):
                    out[r] = R[chain, r, 0] * p[0] + R[chain, r, 1] * p[1] + R[chain, r, 2] * p[2] + t[chain, r]
    return A, B


@numba.njit(cache=True)
def _to_box(p: np.ndarray, centre: np.ndarray, half: np.ndarray) -> float:
    """Signed distance [m] from point p to a box: outside, to its surface; inside, minus the depth."""
    out_sq, inside = 0.0, -np.inf
    for r in range(3):
        d = abs(p[r] - centre[r]) - half[r]
        inside = max(inside, d)
        if d > 0.0:
            out_sq += d * d
    return math.sqrt(out_sq) + min(inside, 0.0)


@numba.njit(cache=True)
def _to_segment(p: np.ndarray, a: np.ndarray, ab: np.ndarray, ab2: float) -> float:
    """Distance [m] from point p to the segment from a along ab (squared length ab2)."""
    dot = 0.0
    for r in range(3):
        dot += (p[r] - a[r]) * ab[r]
    u = min(max(dot / ab2, 0.0), 1.0)
    gap_sq = 0.0
    for r in range(3):
        g = p[r] - a[r] - u * ab[r]
        gap_sq += g * g
    return math.sqrt(gap_sq)


@numba.njit(cache=True)
def _spheres(q: np.ndarray, R0: np.ndarray, t0: np.ndarray, Rp: np.ndarray, RpK: np.ndarray, RpK2: np.ndarray,
             tp: np.ndarray, a_chain: np.ndarray, b_chain: np.ndarray, pa: np.ndarray, pb: np.ndarray,
             a_world: np.ndarray, b_world: np.ndarray, cap_start: np.ndarray, frac: np.ndarray,
             cap_radius: np.ndarray, cap_body: np.ndarray, box_c: np.ndarray, box_h: np.ndarray, body_a: np.ndarray,
             body_ab: np.ndarray, body_ab2: np.ndarray, body_r: np.ndarray, threshold: float,
             cull: bool) -> tuple[float, int]:
    """The smallest signed distance [m] of the arm's spheres at posture q to a box or the body,
    and what it is to (a box's index, or BODY); returned at the first one below ``threshold``.
    With ``cull``, a capsule whose bounding sphere keeps ``threshold`` from a box or a body
    capsule is not looked into for it (the result is then only right as far as whether it is
    below ``threshold``)."""
    A, B = _capsule_ends(q, R0, t0, Rp, RpK, RpK2, tp, a_chain, b_chain, pa, pb, a_world, b_world)
    best, what = np.inf, BODY
    centre, middle = np.empty(3), np.empty(3)
    for k in range(A.shape[0]):
        r_k = cap_radius[k]
        half_sq = 0.0
        for r in range(3):
            middle[r] = 0.5 * (A[k, r] + B[k, r])
            half_sq += 0.25 * (B[k, r] - A[k, r]) ** 2
        bound = math.sqrt(half_sq) + r_k
        for b in range(box_c.shape[0]):
            if cull and _to_box(middle, box_c[b], box_h[b]) - bound > threshold:
                continue
            for s in range(cap_start[k], cap_start[k + 1]):
                for r in range(3):
                    centre[r] = A[k, r] + frac[s] * (B[k, r] - A[k, r])
                dist = _to_box(centre, box_c[b], box_h[b]) - r_k
                if dist < best:
                    best, what = dist, b
                    if best < threshold:
                        return best, what
        if not cap_body[k]:
            continue
        for c in range(body_a.shape[0]):
            if cull and _to_segment(middle, body_a[c], body_ab[c], body_ab2[c]) - bound - body_r[c] > threshold:
                continue
            for s in range(cap_start[k], cap_start[k + 1]):
                for r in range(3):
                    centre[r] = A[k, r] + frac[s] * (B[k, r] - A[k, r])
                dist = _to_segment(centre, body_a[c], body_ab[c], body_ab2[c]) - r_k - body_r[c]
                if dist < best:
                    best, what = dist, BODY
                    if best < threshold:
                        return best, what
    return best, what


@numba.njit(cache=True)
def nearest(q: np.ndarray, R0: np.ndarray, t0: np.ndarray, Rp: np.ndarray, RpK: np.ndarray, RpK2: np.ndarray,
            tp: np.ndarray, a_chain: np.ndarray, b_chain: np.ndarray, pa: np.ndarray, pb: np.ndarray,
            a_world: np.ndarray, b_world: np.ndarray, cap_start: np.ndarray, frac: np.ndarray,
            cap_radius: np.ndarray, cap_body: np.ndarray, box_c: np.ndarray, box_h: np.ndarray, body_a: np.ndarray,
            body_ab: np.ndarray, body_ab2: np.ndarray, body_r: np.ndarray) -> tuple[float, int]:
    """The arm's smallest signed distance [m] at posture q to a box or the body, and what it is
    to (a box's index, or BODY)."""
    return _spheres(q, R0, t0, Rp, RpK, RpK2, tp, a_chain, b_chain, pa, pb, a_world, b_world, cap_start, frac,
                    cap_radius, cap_body, box_c, box_h, body_a, body_ab, body_ab2, body_r, -np.inf, False)


@numba.njit(cache=True)
def clearances(Q: np.ndarray, R0: np.ndarray, t0: np.ndarray, Rp: np.ndarray, RpK: np.ndarray, RpK2: np.ndarray,
               tp: np.ndarray, a_chain: np.ndarray, b_chain: np.ndarray, pa: np.ndarray, pb: np.ndarray,
               a_world: np.ndarray, b_world: np.ndarray, cap_start: np.ndarray, frac: np.ndarray,
               cap_radius: np.ndarray, cap_body: np.ndarray, box_c: np.ndarray, box_h: np.ndarray,
               body_a: np.ndarray, body_ab: np.ndarray, body_ab2: np.ndarray, body_r: np.ndarray) -> np.ndarray:
    """The smallest signed distance [m] at each posture of Q (k, n)."""
    out = np.empty(Q.shape[0])
    for k in range(Q.shape[0]):
        out[k], _ = _spheres(Q[k], R0, t0, Rp, RpK, RpK2, tp, a_chain, b_chain, pa, pb, a_world, b_world, cap_start,
                             frac, cap_radius, cap_body, box_c, box_h, body_a, body_ab, body_ab2, body_r, -np.inf,
                             False)
    return out


@numba.njit(cache=True)
def posture_clear(q: np.ndarray, R0: np.ndarray, t0: np.ndarray, Rp: np.ndarray, RpK: np.ndarray, RpK2: np.ndarray,
                  tp: np.ndarray, a_chain: np.ndarray, b_chain: np.ndarray, pa: np.ndarray, pb: np.ndarray,
                  a_world: np.ndarray, b_world: np.ndarray, cap_start: np.ndarray, frac: np.ndarray,
                  cap_radius: np.ndarray, cap_body: np.ndarray, box_c: np.ndarray, box_h: np.ndarray,
                  body_a: np.ndarray, body_ab: np.ndarray, body_ab2: np.ndarray, body_r: np.ndarray,
                  margin: float) -> bool:
    """Whether posture q keeps at least ``margin`` [m] from the boxes and the body."""
    d, _ = _spheres(q, R0, t0, Rp, RpK, RpK2, tp, a_chain, b_chain, pa, pb, a_world, b_world, cap_start, frac,
                    cap_radius, cap_body, box_c, box_h, body_a, body_ab, body_ab2, body_r, margin, True)
    return d >= margin


@numba.njit(cache=True)
def edge_clear(q_a: np.ndarray, q_b: np.ndarray, steps: int, R0: np.ndarray, t0: np.ndarray, Rp: np.ndarray,
               RpK: np.ndarray, RpK2: np.ndarray, tp: np.ndarray, a_chain: np.ndarray, b_chain: np.ndarray,
               pa: np.ndarray, pb: np.ndarray, a_world: np.ndarray, b_world: np.ndarray, cap_start: np.ndarray,
               frac: np.ndarray, cap_radius: np.ndarray, cap_body: np.ndarray, box_c: np.ndarray,
               box_h: np.ndarray, body_a: np.ndarray, body_ab: np.ndarray, body_ab2: np.ndarray,
               body_r: np.ndarray, margin: float) -> bool:
    """Whether every one of the ``steps`` postures evenly along the edge from q_a (left out) to
    q_b (included) keeps at least ``margin`` [m] from the boxes and the body."""
    q = np.empty(q_a.shape[0])
    for i in range(1, steps + 1):
        f = i / steps
        for j in range(q_a.shape[0]):
            q[j] = q_a[j] + f * (q_b[j] - q_a[j])
        d, _ = _spheres(q, R0, t0, Rp, RpK, RpK2, tp, a_chain, b_chain, pa, pb, a_world, b_world, cap_start, frac,
                        cap_radius, cap_body, box_c, box_h, body_a, body_ab, body_ab2, body_r, margin, True)
        if d < margin:
            return False
    return True
