"""The LowCmd -> LowState loop: standing on sensor-only joint PD, rejection of bad commands,
command-loss watchdog, battery cut-off."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from laoshan.cerebellum.stand import StandController
from laoshan.robot.description import RobotDescription
from laoshan.sim.scoring import has_fallen
from laoshan.scenarios.stand import StandScenario, run_stand
from laoshan.sim.body import SimBody
from laoshan.port.messages import LowCmd, check_low_cmd


@pytest.fixture(scope="module")
def basic_body(g1_basic: RobotDescription) -> SimBody:
    return SimBody(g1_basic)


def stand_for(body: SimBody, seconds: float, seed: int = 0) -> None:
    controller = StandController(body.robot)
    state = body.reset(seed)
    for _ in range(int(seconds / body.loop.control_dt_s)):
        state = body.step(controller(state))


def test_stand_10s_without_falling(robot: RobotDescription) -> None:
    report = run_stand(StandScenario(robot=robot.name, seconds=10.0, seed=1), robot=robot)
    assert not report.fell
    assert report.pelvis_height_min_m > 0.75
    assert report.max_tilt_rad < 0.1
    assert report.rejected_commands == 0
    assert 0 < report.energy_J and 0.99 < report.battery_soc < 1.0


def test_without_commands_the_robot_falls(basic_body: SimBody) -> None:
    """The stand is held by the motors, nothing else: with the drivers idle the G1 collapses."""
    basic_body.reset(0)
    for _ in range(1500):
        basic_body.step(None)
    assert has_fallen(basic_body.ground_truth())


def test_lowstate_reports_sensors(basic_body: SimBody) -> None:
    controller = StandController(basic_body.robot)
    state = basic_body.reset(0)
    for _ in range(500):
        state = basic_body.step(controller(state))
    truth = basic_body.ground_truth()
    assert state.tick == 500 and state.time_s == pytest.approx(1.0)
    assert np.abs(state.motor_state.q - truth.q_rad).max() < 0.01
    assert state.foot_force_N.sum() == pytest.approx(33.34 * 9.81, rel=0.1)   # the robot's weight
    assert state.imu_state.accelerometer[2] == pytest.approx(9.81, abs=0.5)
    assert abs(state.imu_state.rpy[0]) < 0.05
    assert 45 < state.bms.voltage_V < 54.6


def test_nan_command_is_rejected_and_never_reaches_physics(basic_body: SimBody) -> None:
    stand_for(basic_body, 1.0)
    controller = StandController(basic_body.robot)
    state = basic_body.step(controller(basic_body.step(None)))
    bad = controller(state)
    bad.motor_cmd.q[3] = np.nan
    state = basic_body.step(bad)
    assert state.cmd_rejected == "motor_cmd.q[3] is not finite"
    assert basic_body.rejected_commands == 1
    assert np.isfinite(basic_body.data.qpos).all() and np.isfinite(basic_body.data.ctrl).all()
    for _ in range(10):                     # a few bad ticks: the drivers hold the last good command
        bad.motor_cmd.tau[0] = np.inf
        basic_body.step(bad)
    assert not has_fallen(basic_body.ground_truth())


@pytest.mark.parametrize(("field", "index", "value", "why"), [
    ("kp", 0, -5.0, "outside"),
    ("kd", 4, 1e4, "outside"),
    ("tau", 3, 500.0, "beyond the motor's peak torque"),
    ("q", 3, 10.0, "beyond the joint limits"),
])
def test_out_of_range_command_is_rejected(basic_body: SimBody, field: str, index: int, value: float, why: str) -> None:
    controller = StandController(basic_body.robot)
    state = basic_body.reset(0)
    cmd = controller(state)
    getattr(cmd.motor_cmd, field)[index] = value
    state = basic_body.step(cmd)
    assert state.cmd_rejected.startswith(f"motor_cmd.{field}[{index}]") and why in state.cmd_rejected


def test_safe_commands_are_accepted(robot: RobotDescription) -> None:
    body = SimBody(robot)
    n, kd = len(robot.motors), body.loop.damping_kd_Nms
    assert check_low_cmd(LowCmd.damping(n, kd), body.limits)[0] == ""
    assert check_low_cmd(LowCmd.zeros(n), body.limits)[0] == ""
    assert check_low_cmd(StandController(robot)(body.reset(0)), body.limits)[0] == ""


def test_wrong_size_command_is_rejected(basic_body: SimBody) -> None:
    state = basic_body.reset(0)
    assert "29 numbers" in basic_body.step(LowCmd.zeros(10)).cmd_rejected
    assert state.cmd_rejected == ""


def test_command_loss_ends_in_damping(basic_body: SimBody) -> None:
    stand_for(basic_body, 0.5)
    timeout = basic_body.loop.watchdog_timeout_s
    ticks_to_damping = None
    for k in range(100):
        state = basic_body.step(None)
        if state.damping_active:
            ticks_to_damping = k + 1
            break
    assert ticks_to_damping is not None
    assert ticks_to_damping * basic_body.loop.control_dt_s <= timeout + 0.01
    # in damping the drivers apply only -kd * dq: no stiffness, no feed-forward
    kd = basic_body.loop.damping_kd_Nms
    assert np.allclose(basic_body.model.actuator_biasprm[:29, 1], 0.0)
    assert np.allclose(basic_body.model.actuator_biasprm[:29, 2], -kd)
    assert np.allclose(basic_body.data.ctrl[:29], 0.0)


def test_driver_law_is_what_physics_applies(basic_body: SimBody) -> None:
    """MuJoCo's actuator force equals kp (q* - q) + kd (dq* - dq) + tau_ff, clipped to the envelope."""
    controller = StandController(basic_body.robot)
    state = basic_body.reset(0)
    cmd = controller(state)
    cmd.motor_cmd.q[:] += 0.05
    cmd.motor_cmd.dq[:] = 0.3
    cmd.motor_cmd.tau[:] = 1.0
    basic_body.step(cmd)
    m, d = basic_body.model, basic_body.data
    mujoco.mj_forward(m, d)
    q, dq = d.qpos[basic_body.qadr], d.qvel[basic_body.dadr]
    c = cmd.motor_cmd
    expected = c.kp * (c.q - q) + c.kd * (c.dq - dq) + c.tau
    lo, hi = m.actuator_forcerange[:29].T
    assert np.allclose(d.actuator_force[:29], np.clip(expected, lo, hi), atol=1e-9)


def test_dead_battery_cuts_the_motors(g1_basic: RobotDescription) -> None:
    body = SimBody(g1_basic, battery_soc=0.0)
    controller = StandController(g1_basic)
    state = body.reset(0)
    for _ in range(1000):
        state = body.step(controller(state))
    assert "under-voltage" in state.bms.fault
    assert state.damping_active
    assert np.allclose(state.motor_state.tau_est, 0.0)
    assert has_fallen(body.ground_truth())


def test_same_seed_same_run(g1_basic: RobotDescription) -> None:
    a, b = SimBody(g1_basic), SimBody(g1_basic)
    stand_for(a, 0.4, seed=5)
    stand_for(b, 0.4, seed=5)
    assert np.array_equal(a.data.qpos, b.data.qpos)
