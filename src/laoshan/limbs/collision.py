"""The robot's own collision model, for planning: the capsules of its description as chains of
spheres placed by forward kinematics of the control model, against the boxes it knows of
(furniture from the scene's map or the world model) and against its own body.

One arm moves; the rest of the body holds the posture it had when the model was set. Distances
are signed (negative: overlapping) and in metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from laoshan.cerebellum.control_model import ControlModel


@dataclass(frozen=True)
class ObstacleBox:
    """An axis-aligned box (world frame) the hand and arm must keep clear of."""

    name: str
    center_m: tuple[float, float, float]
    half_size_m: tuple[float, float, float]

    def __post_init__(self) -> None:
        if len(self.center_m) != 3 or len(self.half_size_m) != 3 or not all(h > 0 for h in self.half_size_m):
            raise ValueError(f"obstacle {self.name!r}: need a 3-vector centre and three positive half sizes [m]")


class ArmCollision:
    """Clearance of one arm (``side``) at arm postures ``q_arm_rad`` (the arm's joints in motor
    order, one posture or a batch) from the obstacles and from the rest of the body. The arm's
    kinematics are batched in numpy from the control model's joint placements, so checking a
    whole edge of a path costs little more than checking one posture."""

    def __init__(self, model: ControlModel, side: str, obstacles: tuple[ObstacleBox, ...] = ()) -> None:
        desc = model.desc
        if not desc.collision:
            raise ValueError(f"{desc.name} has no collision model (collision capsules in its description)")
        if side not in model.arm_joints:
            raise ValueError(f"{desc.name} has no {side} arm; it has {sorted(model.arm_joints)}")
        self.model, self.side = model, side
        self.pin_model = pm = model.robot.model
        self.data = pm.createData()
        names = desc.joint_names
        self.arm_index = np.array([names.index(j) for j in model.arm_joints[side]])   # into motor order
        self._chain = [pm.getJointId(j) for j in model.arm_joints[side]]
        for parent, child in zip(self._chain, self._chain[1:], strict=False):
            if pm.parents[child] != parent:
                raise ValueError(f"the {side} arm's joints are not one serial chain")
        # Each joint's frame is its parent's moved by the placement (Rp, tp), then turned by q about
        # its axis: Rp Rot(q) = Rp + sin q (Rp K) + (1 - cos q) (Rp K²), K the axis' cross matrix.
        self._links = []
        for j in self._chain:
            x, y, z = self._joint_axis(j)
            K = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
            Rp, tp = pm.jointPlacements[j].rotation.copy(), pm.jointPlacements[j].translation.copy()
            self._links.append((Rp, Rp @ K, Rp @ K @ K, tp))
        # every capsule end: (parent joint, point in that joint's frame)
        ends = []
        for capsule in desc.collision:
            pair = []
            for link, offset in ((capsule.link_a, capsule.a_offset_m), (capsule.link_b, capsule.b_offset_m)):
                frame = pm.frames[pm.getFrameId(link)]
                pair.append((frame.parentJoint, frame.placement.act(np.array(offset, dtype=float))))
            ends.append(pair)
        moving = [any(self._downstream(j) for j, _ in pair) for pair in ends]
        if not any(moving):
            raise ValueError(f"no collision capsule of {desc.name} moves with its {side} arm")
        capsules = desc.collision
        self._arm = self._layout([ends[i] for i in range(len(ends)) if moving[i]],
                                 [c for c, m in zip(capsules, moving, strict=True) if m])
        still = [i for i in range(len(ends)) if not moving[i] and capsules[i].self_collision]
        self._still_capsules = [capsules[i] for i in still]
        self._still = self._layout([ends[i] for i in still], self._still_capsules)
        self.set_obstacles(obstacles)
        self._q = np.zeros(pm.nq)
        self._body: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None   # capsules: start, axis, radius

    def _joint_axis(self, joint: int) -> np.ndarray:
        kind = self.pin_model.joints[joint].shortname()
        if kind in ("JointModelRX", "JointModelRY", "JointModelRZ"):
            return np.eye(3)["XYZ".index(kind[-1])]
        if kind == "JointModelRevoluteUnaligned":
            return np.array(self.pin_model.joints[joint].extract().axis, dtype=float)
        raise ValueError(f"arm joint {self.pin_model.names[joint]} is a {kind}, not a revolute joint")

    def _downstream(self, joint: int) -> bool:
        while joint > 0:
            if joint in self._chain:
                return True
            joint = self.pin_model.parents[joint]
        return False

    def _layout(self, ends: list[list[tuple[int, np.ndarray]]], capsules: list) -> dict[str, np.ndarray]:
        """Where the spheres of these capsules go: spaced by about half a radius along each (at the
        home posture's length), they fall short of the capsule's surface by under 4 %."""
        q = pin.neutral(self.pin_model)
        q[self.model.iq] = self.model.home_rad
        pin.forwardKinematics(self.pin_model, self.data, q)
        cap, frac = [], []
        for k, ((ja, pa), (jb, pb)) in enumerate(ends):
            length = float(np.linalg.norm(self.data.oMi[jb].act(pb) - self.data.oMi[ja].act(pa)))
            n = max(2, math.ceil(length / (0.5 * capsules[k].radius_m)) + 1)
            cap += [k] * n
            frac.append(np.linspace(0.0, 1.0, n))
        index = np.array(cap, dtype=int)
        ja = np.array([pair[0][0] for pair in ends], dtype=int)
        jb = np.array([pair[1][0] for pair in ends], dtype=int)
        return {"ja": ja, "jb": jb,
                "a_chain": np.array([self._chain.index(j) if j in self._chain else -1 for j in ja], dtype=int),
                "b_chain": np.array([self._chain.index(j) if j in self._chain else -1 for j in jb], dtype=int),
                "pa": np.array([pair[0][1] for pair in ends]).reshape(-1, 3),
                "pb": np.array([pair[1][1] for pair in ends]).reshape(-1, 3),
                "cap": index, "frac": np.concatenate(frac)[:, None] if frac else np.zeros((0, 1)),
                "radius": np.array([c.radius_m for c in capsules])[index] if capsules else np.zeros(0),
                "body": np.array([c.self_collision for c in capsules], dtype=bool)[index] if capsules
                else np.zeros(0, dtype=bool)}

    def set_obstacles(self, obstacles: tuple[ObstacleBox, ...]) -> None:
        self.obstacles = tuple(obstacles)
        self._box_c = np.array([b.center_m for b in obstacles], dtype=float).reshape(-1, 3)
        self._box_h = np.array([b.half_size_m for b in obstacles], dtype=float).reshape(-1, 3)

    def set_body(self, p_world_base_m: np.ndarray, quat_xyzw: np.ndarray, q_rad: np.ndarray) -> None:
        """The body's posture (estimated base pose, all joints in motor order); the arm's own
        joints in ``q_rad`` do not matter."""
        q = np.zeros(self.pin_model.nq)
        q[0:3], q[3:7] = p_world_base_m, quat_xyzw
        q[self.model.iq] = q_rad
        self._q = q
        pin.forwardKinematics(self.pin_model, self.data, q)
        root = self.data.oMi[int(self.pin_model.parents[self._chain[0]])]
        self._root = (root.rotation.copy(), root.translation.copy())
        for layout in (self._arm, self._still):
            for end in ("a", "b"):
                points = zip(layout[f"j{end}"], layout[f"p{end}"], strict=True)
                layout[f"{end}_world"] = np.array([self.data.oMi[int(j)].act(p) for j, p in points]).reshape(-1, 3)
        a, b = self._still["a_world"], self._still["b_world"]
        self._body = (a, b - a, np.array([c.radius_m for c in self._still_capsules]))
        self._ab2 = np.maximum(((b - a) ** 2).sum(axis=1), 1e-12)

    def chain_poses(self, q_arm_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World rotations (k, 7, 3, 3) and origins (k, 7, 3) of the arm's joint frames for the
        arm postures ``q_arm_rad`` (k, 7)."""
        Q = np.atleast_2d(q_arm_rad)
        k = len(Q)
        sin, one_cos = np.sin(Q)[:, :, None, None], 1.0 - np.cos(Q)[:, :, None, None]
        Rs, ts = np.empty((k, len(self._chain), 3, 3)), np.empty((k, len(self._chain), 3))
        R, t = self._root
        for i, (Rp, RpK, RpK2, tp) in enumerate(self._links):
            t = t + R @ tp
            R = R @ (Rp + sin[:, i] * RpK + one_cos[:, i] * RpK2)
            Rs[:, i], ts[:, i] = R, t
        return Rs, ts

    def _ends(self, layout: dict[str, np.ndarray], Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Capsule ends a, b (k, c, 3, world) of a layout at the arm postures Q (k, 7): ends on the
        arm's joints move with it, the others stay where set_body() put them."""
        R, t = self.chain_poses(Q)
        out = []
        for end in ("a", "b"):
            chain, points = layout[f"{end}_chain"], layout[f"p{end}"]
            world = np.repeat(layout[f"{end}_world"][None], len(Q), axis=0)
            moving = chain >= 0
            world[:, moving] = np.einsum("kcij,cj->kci", R[:, chain[moving]], points[moving]) + t[:, chain[moving]]
            out.append(world)
        return out[0], out[1]

    def arm_spheres(self, q_arm_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centres (k, n, 3, world) and radii (n,) of the arm's spheres at the postures (k, 7)."""
        a, b = self._ends(self._arm, np.atleast_2d(q_arm_rad))
        cap = self._arm["cap"]
        return a[:, cap] + self._arm["frac"][None] * (b - a)[:, cap], self._arm["radius"]

    def clearance_m(self, q_arm_rad: np.ndarray) -> np.ndarray:
        """The smallest signed distance [m] from the arm to an obstacle or the body, per posture
        (k,) of ``q_arm_rad`` (k, 7)."""
        box, body = self._distances(q_arm_rad)
        return np.minimum(box.min(axis=1), body) if box.shape[1] else body

    def closest(self, q_arm_rad: np.ndarray) -> tuple[float, str]:
        """For one posture: its clearance [m] and what it is to (an obstacle's name, "its own body")."""
        box, body = self._distances(np.atleast_2d(q_arm_rad))
        if box.shape[1] and box[0].min() < body[0]:
            k = int(box[0].argmin())
            return float(box[0, k]), self.obstacles[k].name
        return float(body[0]), "its own body"

    def _distances(self, q_arm_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per posture: the arm's signed distance to each obstacle (k, boxes) and to the body (k,)."""
        if self._body is None:
            raise RuntimeError("set_body() first: the rest of the body's posture is not known")
        c, r = self.arm_spheres(q_arm_rad)                                 # (k, n, 3), (n,)
        k = len(c)
        box = np.zeros((k, 0))
        if len(self._box_c):
            d = np.abs(c[:, :, None, :] - self._box_c) - self._box_h       # (k, n, boxes, 3)
            out = np.maximum(d, 0.0)
            dist = np.sqrt(np.einsum("knbi,knbi->knb", out, out)) + np.minimum(d.max(axis=3), 0.0) - r[None, :, None]
            box = dist.min(axis=1)
        body = np.full(k, np.inf)
        a, ab, br = self._body
        checked = self._arm["body"]
        if len(a) and checked.any():           # sphere to capsule: to the nearest point of its axis
            ap = c[:, checked, None, :] - a                                  # (k, n, capsules, 3)
            s = np.clip(np.einsum("knci,ci->knc", ap, ab) / self._ab2, 0.0, 1.0)
            g = ap - s[..., None] * ab
            gap = np.sqrt(np.einsum("knci,knci->knc", g, g))
            body = (gap - r[checked][None, :, None] - br).min(axis=(1, 2))
        return box, body
