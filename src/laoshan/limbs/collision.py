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
from laoshan.limbs import clearance
from laoshan.limbs.arm_chain import chain_frames


@dataclass(frozen=True)
class ObstacleBox:
    """An axis-aligned box (world frame) the hand and arm must keep clear of."""

    name: str
    center_m: tuple[float, float, float]
    half_size_m: tuple[float, float, float]

    def __post_init__(self) -> None:
        if len(self.center_m) != 3 or len(self.half_size_m) != 3 or not all(h > 0 for h in self.half_size_m):
            raise ValueError(f"obstacle {self.name!r}: need a 3-vector centre and three positive half sizes [m]")


BOXES_AT = 16   # where the boxes' centres and half sizes sit in the arguments of the compiled checks


class ArmCollision:
    """Clearance of one arm (``side``) at arm postures ``q_arm_rad`` (the arm's joints in motor
    order, one posture or a batch) from the obstacles and from the rest of the body. The arm's
    kinematics and distances are compiled (:mod:`laoshan.limbs.clearance`) from the control
    model's joint placements; an edge of a path is checked posture by posture, stopping at the
    first one too close."""

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
        links, axes = [], []
        for j in self._chain:
            x, y, z = axis = self._joint_axis(j)
            axes.append(axis)
            K = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
            Rp, tp = pm.jointPlacements[j].rotation.copy(), pm.jointPlacements[j].translation.copy()
            links.append((Rp, Rp @ K, Rp @ K @ K, tp))
        self._links = tuple(np.ascontiguousarray(np.array(part, dtype=float)) for part in zip(*links, strict=True))
        self.axes = np.array(axes, dtype=float)     # each joint's axis in its own frame (7, 3)
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
        self._geometry: tuple[np.ndarray, ...] | None = None   # what the compiled check takes, once the body is set
        self.set_obstacles(obstacles)

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
        start, frac = [0], []
        for k, ((ja, pa), (jb, pb)) in enumerate(ends):
            length = float(np.linalg.norm(self.data.oMi[jb].act(pb) - self.data.oMi[ja].act(pa)))
            n = max(2, math.ceil(length / (0.5 * capsules[k].radius_m)) + 1)
            start.append(start[-1] + n)
            frac.append(np.linspace(0.0, 1.0, n))
        ja = np.array([pair[0][0] for pair in ends], dtype=np.int64)
        jb = np.array([pair[1][0] for pair in ends], dtype=np.int64)
        return {"ja": ja, "jb": jb,
                "a_chain": np.array([self._chain.index(j) if j in self._chain else -1 for j in ja], dtype=np.int64),
                "b_chain": np.array([self._chain.index(j) if j in self._chain else -1 for j in jb], dtype=np.int64),
                "pa": np.array([pair[0][1] for pair in ends], dtype=float).reshape(-1, 3),
                "pb": np.array([pair[1][1] for pair in ends], dtype=float).reshape(-1, 3),
                "cap_start": np.array(start, dtype=np.int64), "frac": np.concatenate(frac) if frac else np.zeros(0),
                "cap_radius": np.array([c.radius_m for c in capsules], dtype=float),
                "cap_body": np.array([c.self_collision for c in capsules], dtype=bool)}

    def set_obstacles(self, obstacles: tuple[ObstacleBox, ...]) -> None:
        self.obstacles = tuple(obstacles)
        self._box_c = np.array([b.center_m for b in obstacles], dtype=float).reshape(-1, 3)
        self._box_h = np.array([b.half_size_m for b in obstacles], dtype=float).reshape(-1, 3)
        if self._geometry is not None:
            self._geometry = (*self._geometry[:BOXES_AT], self._box_c, self._box_h, *self._geometry[BOXES_AT + 2:])

    def set_body(self, p_world_base_m: np.ndarray, quat_xyzw: np.ndarray, q_rad: np.ndarray) -> None:
        """The body's posture (estimated base pose, all joints in motor order); the arm's own
        joints in ``q_rad`` do not matter."""
        q = np.zeros(self.pin_model.nq)
        q[0:3], q[3:7] = p_world_base_m, quat_xyzw
        q[self.model.iq] = q_rad
        pin.forwardKinematics(self.pin_model, self.data, q)
        root = self.data.oMi[int(self.pin_model.parents[self._chain[0]])]
        world = {}
        for name, layout in (("arm", self._arm), ("still", self._still)):
            for end in ("a", "b"):
                points = zip(layout[f"j{end}"], layout[f"p{end}"], strict=True)
                world[name, end] = np.array([self.data.oMi[int(j)].act(p) for j, p in points],
                                            dtype=float).reshape(-1, 3)
        a, b = world["still", "a"], world["still", "b"]
        arm = self._arm
        self._geometry = (root.rotation.copy(), root.translation.copy(), *self._links,
                          arm["a_chain"], arm["b_chain"], arm["pa"], arm["pb"], world["arm", "a"], world["arm", "b"],
                          arm["cap_start"], arm["frac"], arm["cap_radius"], arm["cap_body"], self._box_c, self._box_h,
                          a, b - a, np.maximum(((b - a) ** 2).sum(axis=1), 1e-12),
                          np.array([c.radius_m for c in self._still_capsules], dtype=float))

    def _set(self) -> tuple[np.ndarray, ...]:
        if self._geometry is None:
            raise RuntimeError("set_body() first: the rest of the body's posture is not known")
        return self._geometry

    def chain(self) -> tuple[np.ndarray, ...]:
        """The arm's chain as :mod:`laoshan.limbs.arm_chain` takes it: R0, t0 (the body as set),
        Rp, RpK, RpK2, tp."""
        return self._set()[:6]

    def chain_poses(self, q_arm_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World rotations (k, 7, 3, 3) and origins (k, 7, 3) of the arm's joint frames for the
        arm postures ``q_arm_rad`` (k, 7)."""
        R0, t0, *links = self.chain()
        Q = np.atleast_2d(np.asarray(q_arm_rad, dtype=float))
        Rs, ts = np.empty((len(Q), len(self._chain), 3, 3)), np.empty((len(Q), len(self._chain), 3))
        for k, q in enumerate(Q):
            chain_frames(np.ascontiguousarray(q), R0, t0, *links, Rs[k], ts[k])
        return Rs, ts

    def clearance_m(self, q_arm_rad: np.ndarray) -> np.ndarray:
        """The smallest signed distance [m] from the arm to an obstacle or the body, per posture
        (k,) of ``q_arm_rad`` (k, 7)."""
        return clearance.clearances(np.ascontiguousarray(np.atleast_2d(q_arm_rad), dtype=float), *self._set())

    def closest(self, q_arm_rad: np.ndarray) -> tuple[float, str]:
        """For one posture: its clearance [m] and what it is to (an obstacle's name, "its own body")."""
        distance, what = clearance.nearest(np.ascontiguousarray(q_arm_rad, dtype=float), *self._set())
        return float(distance), "its own body" if what == clearance.BODY else self.obstacles[what].name

    def posture_clear(self, q_arm_rad: np.ndarray, margin_m: float) -> bool:
        """Whether the arm at this posture keeps at least ``margin_m`` from the obstacles and the body."""
        return bool(clearance.posture_clear(np.ascontiguousarray(q_arm_rad, dtype=float), *self._set(),
                                            float(margin_m)))

    def edge_clear(self, q_a: np.ndarray, q_b: np.ndarray, steps: int, margin_m: float) -> bool:
        """Whether every one of ``steps`` postures evenly along the straight edge from ``q_a``
        (left out) to ``q_b`` keeps at least ``margin_m`` from the obstacles and the body."""
        return bool(clearance.edge_clear(np.ascontiguousarray(q_a, dtype=float), np.ascontiguousarray(q_b, dtype=float),
                                         int(steps), *self._set(), float(margin_m)))
