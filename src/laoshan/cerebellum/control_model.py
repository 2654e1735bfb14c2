"""The robot model the controllers use: the description's URDF with sole and trunk frames added,
loaded in PlaCo (on Pinocchio), and the index maps between motor order and model order.

Control code never touches MuJoCo: it sees the robot through this model and ``LowState``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pinocchio as pin
import placo

from laoshan.robot.description import RobotDescription

FloatArray = np.ndarray


@dataclass(frozen=True)
class LegGeometry:
    """One leg's reach, from the kinematics: hip (the leg's joint nearest the base) to ankle (the
    foot link's joint) with the leg straight, and where both sit at the home posture."""

    length_m: float                  # hip to ankle, every joint at zero (straight)
    p_com_hip_m: FloatArray          # hip relative to the CoM at home, base frame (3,)
    p_foot_ankle_m: FloatArray       # ankle in the foot (sole) frame (3,)


@dataclass(frozen=True)
class FootGeometry:
    """Sole rectangle in the foot frame (centred under the sole contact points, on the ground)."""

    length_m: float
    width_m: float


def _control_urdf(desc: RobotDescription) -> Path:
    """URDF without geometry, with ``left_foot``/``right_foot`` frames at the sole centres, ``{side}_sole_{k}`` frames
    at the bottom of each sole contact sphere, ``{side}_hand`` frames at the grasp centres, and
    ``trunk`` at the base.

    PlaCo's humanoid tools name these frames so; the file is written once per content into the
    temporary folder (the package folder may be read-only).
    """
    # Control needs no geometry: without the visual and collision meshes the model loads in a
    # fraction of the time (the hands' meshes took seconds to parse).
    text = re.sub(r"<(visual|collision)\b.*?</\1>", "", desc.urdf_path.read_text(), flags=re.DOTALL)
    frames = []
    for side, foot in desc.feet.items():
        pts = np.array(foot.sole_points_m)
        cx, cy = (pts[:, 0].min() + pts[:, 0].max()) / 2, (pts[:, 1].min() + pts[:, 1].max()) / 2
        cz = pts[:, 2].min() - foot.sole_radius_m
        frames.append(f'<link name="{side}_foot"/><joint name="{side}_foot_frame" type="fixed">'
                      f'<parent link="{foot.link}"/><child link="{side}_foot"/>'
                      f'<origin xyz="{cx} {cy} {cz}"/></joint>')
        for k, (x, y, z) in enumerate(pts):
            frames.append(f'<link name="{side}_sole_{k}"/><joint name="{side}_sole_{k}_frame" type="fixed">'
                          f'<parent link="{foot.link}"/><child link="{side}_sole_{k}"/>'
                          f'<origin xyz="{x} {y} {z - foot.sole_radius_m}"/></joint>')
    for side, hand in desc.hands.items():
        x, y, z = hand.offset_m
        frames.append(f'<link name="{side}_hand"/><joint name="{side}_hand_frame" type="fixed">'
                      f'<parent link="{hand.link}"/><child link="{side}_hand"/><origin xyz="{x} {y} {z}"/></joint>')
    frames.append(f'<link name="trunk"/><joint name="trunk_frame" type="fixed"><parent link="{desc.base_link}"/>'
                  '<child link="trunk"/></joint>')
    text = text.replace("</robot>", "".join(frames) + "</robot>")
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / "laoshan-control" / f"{desc.name}-{digest}.urdf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence C++ writes to stderr (PlaCo warns on every load about frames of its own humanoid
    conventions that the G1 does not have; they are not used here, so it is noise)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_placo_robot(urdf_path: Path) -> placo.HumanoidRobot:
    with quiet_native_stderr():
        return placo.HumanoidRobot(str(urdf_path))


class ControlModel:
    """A PlaCo humanoid model of ``desc`` plus motor-order index maps.

    ``q`` follows Pinocchio: ``[p_world_base (3), quat_world_base xyzw (4), joints]``, ``v`` is
    ``[v_base (3, base frame), w_base (3, base frame), joint speeds]``.
    """

    def __init__(self, desc: RobotDescription) -> None:
        self.desc = desc
        self.urdf_path = _control_urdf(desc)
        self.robot = load_placo_robot(self.urdf_path)
        model = self.robot.model
        names = desc.joint_names
        self.iq = np.array([model.joints[model.getJointId(n)].idx_q for n in names])
        self.iv = np.array([model.joints[model.getJointId(n)].idx_v for n in names])
        armature = np.zeros(model.nv)   # rotor inertia from the catalog: part of the joint dynamics
        armature[self.iv] = [p.armature_kgm2 for p in desc.motor_specs()]
        model.armature = armature
        self.home_rad = np.array([m.home_rad for m in desc.motors])
        self.tau_limit_Nm = np.array([p.peak_torque_Nm for p in desc.motor_specs()])
        self.dq_limit_rad_s = np.array([p.no_load_speed_rad_s for p in desc.motor_specs()])
        self.mass_kg = float(sum(inertia.mass for inertia in model.inertias))
        pts = np.array(desc.feet["left"].sole_points_m)
        self.foot = FootGeometry(length_m=float(np.ptp(pts[:, 0])), width_m=float(np.ptp(pts[:, 1])))
        self.feet_spacing_m, self.standing_height_m = self._home_stance()
        self.imu_frame = desc.imu.link
        # sole contact points in the foot frame (the foot frame is on the ground, mid-sole)
        self.sole_points_m = {side: self._sole_points(side) for side in desc.feet}
        self.leg_joints = self._leg_joints()
        self.legs = {side: self._leg_geometry(side) for side in desc.feet}
        self.arm_joints = self._arm_joints()
        body = set().union(*(self._chain(f"{side}_foot") for side in desc.feet),
                           *(self._chain(f"{side}_hand") for side in desc.hands))
        self.hand_joints = [m.joint for m in desc.motors if m.joint not in body]   # fingers: beyond the hands

    def support_points_xy(self, feet: dict[str, np.ndarray]) -> np.ndarray:
        """The sole contact points (k, 2) in the world's xy plane, for feet at ``feet`` (4x4 each)."""
        return np.array([T[:2, 3] + T[:2, :2] @ p[:2] for side, T in feet.items() for p in self.sole_points_m[side]])

    @staticmethod
    def feet_yaw_rad(feet: dict[str, np.ndarray]) -> float:
        """Heading of the stance: the mean of the two feet's x axes, about the world z axis."""
        return float(np.arctan2(feet["left"][1, 0] + feet["right"][1, 0], feet["left"][0, 0] + feet["right"][0, 0]))

    def _sole_points(self, side: str) -> np.ndarray:
        model = self.robot.model
        data = model.createData()
        pin.framesForwardKinematics(model, data, pin.neutral(model))
        foot = data.oMf[model.getFrameId(f"{side}_foot")]
        n = len(self.desc.feet[side].sole_points_m)
        return np.array([foot.actInv(data.oMf[model.getFrameId(f"{side}_sole_{k}")].translation) for k in range(n)])

    def _chain(self, frame: str) -> set[str]:
        """Joints between the base and a frame, by walking up the kinematic tree."""
        model = self.robot.model
        joints, joint = set(), model.frames[model.getFrameId(frame)].parentJoint
        while joint > 1:   # 0 is the universe, 1 the floating base
            joints.add(model.names[joint])
            joint = model.parents[joint]
        return joints

    def leg_motors(self, side: str) -> list[int]:
        """Motor indices of the joints between the base and the ``side`` foot, in motor order."""
        chain = self._chain(f"{side}_foot")
        return [i for i, m in enumerate(self.desc.motors) if m.joint in chain]

    def _leg_geometry(self, side: str) -> LegGeometry:
        model = self.robot.model
        data = model.createData()
        foot = model.getFrameId(f"{side}_foot")
        ankle = model.frames[foot].parentJoint
        hip = min(model.getJointId(j) for j in self._chain(f"{side}_foot"))
        pin.forwardKinematics(model, data, pin.neutral(model))
        length = float(np.linalg.norm(data.oMi[ankle].translation - data.oMi[hip].translation))
        q = pin.neutral(model)
        q[self.iq] = self.home_rad
        com = pin.centerOfMass(model, data, q)       # also places the joints at home
        pin.updateFramePlacements(model, data)
        return LegGeometry(length_m=length, p_com_hip_m=data.oMi[hip].translation - com,
                           p_foot_ankle_m=data.oMf[foot].actInv(data.oMi[ankle].translation))

    def _leg_joints(self) -> list[str]:
        """Joints between the base and either foot (the legs)."""
        legs = set().union(*(self._chain(f"{side}_foot") for side in self.desc.feet))
        return [m.joint for m in self.desc.motors if m.joint in legs]

    def _arm_joints(self) -> dict[str, list[str]]:
        """Per hand, the joints that move it and not the other hand (the arm, not the waist)."""
        chains = {side: self._chain(f"{side}_hand") for side in self.desc.hands}
        shared = set.intersection(*chains.values()) if len(chains) > 1 else set()
        return {side: [m.joint for m in self.desc.motors if m.joint in chain - shared]
                for side, chain in chains.items()}

    def _home_stance(self) -> tuple[float, float]:
        """Lateral feet spacing [m] and base height above the soles [m] at the home posture."""
        self.set_state(np.zeros(3), np.array([0, 0, 0, 1.0]), self.home_rad, np.zeros(6), np.zeros(len(self.iv)))
        left = self.robot.get_T_world_frame("left_foot")[:3, 3]
        right = self.robot.get_T_world_frame("right_foot")[:3, 3]
        return float(abs(left[1] - right[1])), float(-min(left[2], right[2]))

    def set_state(self, p_world_base: FloatArray, quat_xyzw: FloatArray, q_joints: FloatArray,
                  v_base: FloatArray, dq_joints: FloatArray) -> None:
        """Write a state (joints in motor order) into the PlaCo robot and update its kinematics."""
        q = np.zeros(self.robot.model.nq)
        v = np.zeros(self.robot.model.nv)
        q[0:3], q[3:7] = p_world_base, quat_xyzw
        q[self.iq] = q_joints
        v[0:6] = v_base
        v[self.iv] = dq_joints
        self.robot.state.q = q
        self.robot.state.qd = v
        self.robot.update_kinematics()
