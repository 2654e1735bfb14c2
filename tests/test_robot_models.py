"""Both robots build; MuJoCo and Pinocchio agree with the URDF and with each other."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import mujoco
import numpy as np
import pinocchio as pin
import pytest

from laoshan.robot.description import RobotDescription
from laoshan.robot.mujoco_model import build_robot_spec
from laoshan.robot.pinocchio_model import build_pinocchio_model


def urdf_mass_kg(desc: RobotDescription) -> float:
    root = ET.parse(desc.urdf_path).getroot()
    return sum(float(m.get("value")) for m in root.iter("mass"))


@pytest.fixture(scope="module")
def models(robot: RobotDescription) -> tuple[RobotDescription, mujoco.MjModel, pin.Model]:
    return robot, build_robot_spec(robot, 0.001).compile(), build_pinocchio_model(robot)


def test_robot_builds_with_one_actuator_per_motor(models) -> None:
    desc, mj, pm = models
    assert mj.nu == len(desc.motors)
    assert mj.nv == 6 + len(desc.motors)
    assert pm.nv == mj.nv
    assert [mj.actuator(i).name for i in range(mj.nu)] == desc.joint_names


def test_total_mass_matches_urdf(models) -> None:
    desc, mj, pm = models
    expected = urdf_mass_kg(desc)
    assert mj.body_subtreemass[mj.body(desc.base_link).id] == pytest.approx(expected, rel=0.01)
    assert sum(i.mass for i in pm.inertias) == pytest.approx(expected, rel=0.01)


def _random_configs(desc, mj, pm, seed: int, count: int):
    """Random configurations as (MuJoCo qpos, Pinocchio q, joint-name-aligned dof maps)."""
    rng = np.random.default_rng(seed)
    jnames = desc.joint_names
    mj_dof = np.array([mj.jnt_dofadr[mj.joint(n).id] for n in jnames])
    mj_q = np.array([mj.jnt_qposadr[mj.joint(n).id] for n in jnames])
    pin_v = np.array([pm.joints[pm.getJointId(n)].idx_v for n in jnames])
    pin_q = np.array([pm.joints[pm.getJointId(n)].idx_q for n in jnames])
    lo = np.array([mj.jnt_range[mj.joint(n).id, 0] for n in jnames])
    hi = np.array([mj.jnt_range[mj.joint(n).id, 1] for n in jnames])
    for _ in range(count):
        joints = rng.uniform(lo, hi)
        quat_wxyz = rng.normal(size=4)
        quat_wxyz /= np.linalg.norm(quat_wxyz)
        pos = rng.uniform(-1, 1, 3)
        qpos = np.zeros(mj.nq)
        qpos[0:3], qpos[3:7] = pos, quat_wxyz
        qpos[mj_q] = joints
        q = np.zeros(pm.nq)
        q[0:3], q[3:7] = pos, np.r_[quat_wxyz[1:], quat_wxyz[0]]
        q[pin_q] = joints
        yield qpos, q, mj_dof, pin_v, quat_wxyz


def test_mass_matrix_and_com_agree_with_pinocchio(models) -> None:
    desc, mj, pm = models
    data, pdata = mujoco.MjData(mj), pm.createData()
    worst_m, worst_c = 0.0, 0.0
    for qpos, q, mj_dof, pin_v, quat in _random_configs(desc, mj, pm, seed=7, count=5):
        data.qpos[:] = qpos
        mujoco.mj_forward(mj, data)
        m_mj = np.zeros((mj.nv, mj.nv))
        mujoco.mj_fullM(mj, m_mj, data.qM)
        # MuJoCo's free joint: linear velocity in world frame, angular in body frame;
        # Pinocchio's: both in body frame. v_mj = T v_pin, so M_pin = T^T M_mj T.
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, quat)
        t = np.zeros((mj.nv, pm.nv))
        t[0:3, 0:3] = rot.reshape(3, 3)
        t[3:6, 3:6] = np.eye(3)
        t[mj_dof, pin_v] = 1.0
        expected = t.T @ m_mj @ t
        m_pin = pin.crba(pm, pdata, q)
        m_pin = np.triu(m_pin) + np.triu(m_pin, 1).T
        worst_m = max(worst_m, np.abs(m_pin - expected).max() / np.abs(expected).max())
        com_pin = pin.centerOfMass(pm, pdata, q)
        com_mj = data.subtree_com[mj.body(desc.base_link).id]
        worst_c = max(worst_c, np.linalg.norm(com_pin - com_mj) / np.linalg.norm(com_mj))
    assert worst_m <= 1e-6
    assert worst_c <= 1e-6


def test_motor_parts_reach_the_physics_model(models) -> None:
    """Rotor inertia on both models; reducer friction and torque limit on the MuJoCo joint/actuator."""
    desc, mj, pm = models
    for motor in desc.motors:
        part = desc.catalog.get("motor", motor.part)
        dof = mj.jnt_dofadr[mj.joint(motor.joint).id]
        assert mj.dof_armature[dof] == pytest.approx(part.armature_kgm2)
        assert mj.dof_frictionloss[dof] == pytest.approx(part.coulomb_friction_Nm)
        assert mj.dof_damping[dof] == pytest.approx(part.viscous_damping_Nms)
        assert mj.actuator_forcerange[mj.actuator(motor.joint).id, 1] == pytest.approx(part.peak_torque_Nm)
        assert pm.armature[pm.joints[pm.getJointId(motor.joint)].idx_v] == pytest.approx(part.armature_kgm2)
