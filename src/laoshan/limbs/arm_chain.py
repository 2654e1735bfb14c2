"""One arm's serial chain, compiled (numba): its joint frames at a posture, and damped
least-squares inverse kinematics of the hand on it.

A chain is the root frame (world rotation ``R0`` 3x3, origin ``t0``: the body holding still) and,
per joint i, its placement turned by q about its axis: ``Rp[i] + sin q RpK[i] + (1 - cos q)
RpK2[i]`` and ``tp[i]`` (``RpK`` = Rp K, K the axis' cross matrix); ``axes[i]`` is that axis in
the joint's frame. The hand frame is fixed in the last joint's frame (``R_hand``, ``p_hand``).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def chain_frames(q: np.ndarray, R0: np.ndarray, t0: np.ndarray, Rp: np.ndarray, RpK: np.ndarray, RpK2: np.ndarray,
                 tp: np.ndarray, R_out: np.ndarray, t_out: np.ndarray) -> None:
    """World rotations R_out (n, 3, 3) and origins t_out (n, 3) of the chain's joint frames at q (n,)."""
    R = R0.copy()
    t = t0.copy()
    J = np.empty((3, 3))
    for i in range(q.shape[0]):
        s, c1 = math.sin(q[i]), 1.0 - math.cos(q[i])
        for r in range(3):
            t[r] += R[r, 0] * tp[i, 0] + R[r, 1] * tp[i, 1] + R[r, 2] * tp[i, 2]
        for r in range(3):
            for k in range(3):
                J[r, k] = Rp[i, r, k] + s * RpK[i, r, k] + c1 * RpK2[i, r, k]
        R_new = np.zeros((3, 3))
        for r in range(3):
            for k in range(3):
                R_new[r, k] = R[r, 0] * J[0, k] + R[r, 1] * J[1, k] + R[r, 2] * J[2, k]
        R = R_new
        R_out[i] = R
        t_out[i] = t


@numba.njit(cache=True)
def _log3(R: np.ndarray) -> np.ndarray:
    """The rotation vector (axis times angle [rad]) of the rotation matrix R."""
    c = min(max((R[0, 0] + R[1, 1] + R[2, 2] - 1.0) / 2.0, -1.0), 1.0)
    theta = math.acos(c)
    v = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    if theta < 1e-6:
        return 0.5 * v
    if theta < math.pi - 1e-3:
        return theta / (2.0 * math.sin(theta)) * v
    # near a half turn: the axis from the largest diagonal entry, its sign from v
    k = 0
    for i in range(1, 3):
        if R[i, i] > R[k, k]:
            k = i
    axis = np.empty(3)
    axis[k] = math.sqrt(max((R[k, k] - c) / (1.0 - c), 0.0))
    for j in range(3):
        if j != k:
            axis[j] = (R[k, j] + R[j, k]) / (2.0 * axis[k] * (1.0 - c))
    if axis[0] * v[0] + axis[1] * v[1] + axis[2] * v[2] < 0.0:
        axis = -axis
    return theta * axis / math.sqrt(axis[0] ** 2 + axis[1] ** 2 + axis[2] ** 2)


@numba.njit(cache=True)
def _solve_spd(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with A x = b for a small symmetric positive definite A (Cholesky)."""
    n = A.shape[0]
    L = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            s = A[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = math.sqrt(max(s, 1e-300)) if i == j else s / L[j, j]
    y = np.empty(n)
    for i in range(n):
        s = b[i]
        for k in range(i):
            s -= L[i, k] * y[k]
        y[i] = s / L[i, i]
    x = np.empty(n)
    for i in range(n - 1, -1, -1):
        s = y[i]
        for k in range(i + 1, n):
            s -= L[k, i] * x[k]
        x[i] = s / L[i, i]
    return x


@numba.njit(cache=True)
def hand_ik(q0: np.ndarray, q_min: np.ndarray, q_max: np.ndarray, R_goal: np.ndarray, p_goal: np.ndarray,
            R0: np.ndarray, t0: np.ndarray, Rp: np.ndarray, RpK: np.ndarray, RpK2: np.ndarray, tp: np.ndarray,
            axes: np.ndarray, R_hand: np.ndarray, p_hand: np.ndarray, iterations: int, damping: float,
            tolerance_m: float, tolerance_rad: float, orientation_weight: float, orientation: bool,
            max_step_rad: float) -> tuple[np.ndarray, float]:
    """The arm posture [rad] putting the hand at (R_goal, p_goal) (world) from q0, within the joint
    limits, by damped least squares (steps of at most ``max_step_rad`` per joint), and its last
    error (m, radians weighted by ``orientation_weight``; the position error [m] once within the
    tolerances)."""
    n = q0.shape[0]
    q = np.minimum(np.maximum(q0, q_min), q_max)
    R = np.empty((n, 3, 3))
    t = np.empty((n, 3))
    rows = 6 if orientation else 3
    error = np.inf
    for _ in range(iterations):
        chain_frames(q, R0, t0, Rp, RpK, RpK2, tp, R, t)
        R_h = R[n - 1] @ R_hand
        p_h = R[n - 1] @ p_hand + t[n - 1]
        e = np.zeros(rows)
        e[:3] = p_goal - p_h
        e_p = math.sqrt(e[0] ** 2 + e[1] ** 2 + e[2] ** 2)
        e_r = 0.0
        if orientation:
            r = R_h @ _log3(R_h.T @ R_goal)
            e_r = math.sqrt(r[0] ** 2 + r[1] ** 2 + r[2] ** 2)
            e[3:] = orientation_weight * r
        if e_p < tolerance_m and e_r < tolerance_rad:
            return q, e_p
        J = np.zeros((rows, n))
        for i in range(n):
            z = R[i] @ axes[i]
            d = p_h - t[i]
            J[0, i] = z[1] * d[2] - z[2] * d[1]
            J[1, i] = z[2] * d[0] - z[0] * d[2]
            J[2, i] = z[0] * d[1] - z[1] * d[0]
            if orientation:
                J[3:, i] = orientation_weight * z
        A = J @ J.T
        for i in range(rows):
            A[i, i] += damping
        dq = J.T @ _solve_spd(A, e)
        step = np.abs(dq).max()
        scale = min(1.0, max_step_rad / step) if step > 0 else 1.0
        q = np.minimum(np.maximum(q + dq * scale, q_min), q_max)
        error = math.sqrt((e * e).sum())
    return q, error
