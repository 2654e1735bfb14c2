"""The posture a robot holds when it has lost the sensing it balances on (a category 2 sensor stop).

Computed once, from the last good estimate: both feet flat on the ground where they are (a foot in
the air is set down below where it is), the pelvis upright at standing height, its centre of mass
over the middle of the feet; the waist and arms keep their angles (a held box stays held). The
drivers' joint PD then take the joints there with no further sensing (:class:`StandController`
with this posture), as a real G1's motor boards can on their own encoders. Written by hand because
it is a few Gauss-Newton steps on two 6-joint legs, run once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from laoshan.cerebellum.control_model import ControlModel

SIDES = ("left", "right")


@dataclass(frozen=True)
class HoldConfig:
    iterations: int = 40              # Gauss-Newton steps per leg solve
    com_passes: int = 3               # the pelvis is shifted until the CoM is over the feet, this many times
    damping: float = 1e-3             # damped least squares
    tolerance_m: float = 0.005        # a foot farther than this off its target: no such posture, stand at home


def hold_posture(model: ControlModel, config: HoldConfig | None = None) -> np.ndarray | None:
    """Joint angles (motor order) to hold, from the state the control model holds now (the last
    good estimate); None if the legs cannot put the feet there (then the home posture will do)."""
    c = config or HoldConfig()
    pm = model.robot.model
    data = pm.createData()
    q = model.robot.state.q.copy()
    feet = {s: model.robot.get_T_world_frame(f"{s}_foot").copy() for s in SIDES}
    ground_z = min(T[2, 3] for T in feet.values())
    targets = {}
    for side, T in feet.items():        # flat on the ground, each keeping its heading
        yaw = np.arctan2(T[1, 0], T[0, 0])
        targets[side] = pin.SE3(pin.utils.rpyToMatrix(0.0, 0.0, yaw), np.array([T[0, 3], T[1, 3], ground_z]))
    yaw = model.feet_yaw_rad(feet)
    middle = (feet["left"][:2, 3] + feet["right"][:2, 3]) / 2
    q[0:3] = [middle[0], middle[1], ground_z + model.standing_height_m]
    q[3:7] = pin.Quaternion(pin.utils.rpyToMatrix(0.0, 0.0, yaw)).coeffs()
    fids = {s: pm.getFrameId(f"{s}_foot") for s in SIDES}
    lo, hi = pm.lowerPositionLimit, pm.upperPositionLimit

    def solve_legs() -> None:
        for side in SIDES:
            legs = model.leg_motors(side)
            iq, iv = model.iq[legs], model.iv[legs]
            for _ in range(c.iterations):
                pin.framesForwardKinematics(pm, data, q)
                error = pin.log6(data.oMf[fids[side]].actInv(targets[side])).vector
                J = pin.computeFrameJacobian(pm, data, q, fids[side], pin.LOCAL)[:, iv]
                q[iq] = np.clip(q[iq] + J.T @ np.linalg.solve(J @ J.T + c.damping * np.eye(6), error), lo[iq], hi[iq])

    for _ in range(c.com_passes):     # the pelvis moves until the whole robot's CoM is over the feet
        solve_legs()
        q[0:2] += middle - pin.centerOfMass(pm, data, q)[:2]
    solve_legs()
    pin.framesForwardKinematics(pm, data, q)
    off = max(float(np.linalg.norm(data.oMf[fids[s]].translation - targets[s].translation)) for s in SIDES)
    return q[model.iq] if off <= c.tolerance_m else None
