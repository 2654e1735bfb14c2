"""The Pinocchio model of a robot, from the same URDF as the MuJoCo model.

Control code (estimators, whole-body control, IK) uses this model, never MuJoCo, so the same code
runs on the real robot. Rotor inertias from the catalog are set as Pinocchio armature so that
both models have the same joint-space inertia.
"""

from __future__ import annotations

import numpy as np
import pinocchio as pin

from laoshan.robot.description import RobotDescription


def build_pinocchio_model(desc: RobotDescription) -> pin.Model:
    """Free-flyer Pinocchio model; configuration ``q = [p_world_base, quat_xyzw, joints...]``."""
    model = pin.buildModelFromUrdf(str(desc.urdf_path), pin.JointModelFreeFlyer())
    model.name = desc.name
    armature = np.zeros(model.nv)
    for motor, part in zip(desc.motors, desc.motor_specs(), strict=True):
        armature[model.joints[model.getJointId(motor.joint)].idx_v] = part.armature_kgm2
    model.armature = armature
    return model


def joint_index_map(model: pin.Model, joint_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Indices into (q, v) of each named joint, in the given (motor) order."""
    iq = np.array([model.joints[model.getJointId(n)].idx_q for n in joint_names])
    iv = np.array([model.joints[model.getJointId(n)].idx_v for n in joint_names])
    return iq, iv
