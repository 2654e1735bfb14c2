"""The robot port over DDS: Unitree's message layout and CRC, a Unitree SDK client against our
simulator, and our controllers standing and walking a served robot in real time."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from laoshan.port import unitree_hg as hg
from laoshan.port.codec import CrcMismatch, MotorLayout, decode_cmd, decode_state, encode_cmd, encode_state
from laoshan.port.cdr import (low_cmd_crc_of, low_state_crc_of, pack_low_cmd, pack_low_state, unpack_low_cmd,
                               unpack_low_state)
from laoshan.port.messages import LowCmd
from laoshan.robot.description import load_description
from laoshan.sim.body import SimBody

sdk = pytest.importorskip("unitree_sdk2py.utils.crc", reason="Unitree's Python SDK is a test dependency")
from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_, unitree_hg_msg_dds__LowState_  # noqa: E402
from unitree_sdk2py.idl.unitree_hg.msg.dds_ import HandCmd_ as SdkHandCmd  # noqa: E402
from unitree_sdk2py.idl.unitree_hg.msg.dds_ import LowCmd_ as SdkLowCmd  # noqa: E402
from unitree_sdk2py.idl.unitree_hg.msg.dds_ import LowState_ as SdkLowState  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAOSHAN = [sys.executable, "-m", "laoshan.cli"]
DOMAIN = int(os.environ.get("LAOSHAN_TEST_DDS_DOMAIN", "17"))   # away from a simulator a developer may run on 1


def _sdk_cmd(rng: np.random.Generator):
    cmd = unitree_hg_msg_dds__LowCmd_()
    cmd.mode_machine = 5
    for m in cmd.motor_cmd:
        m.mode, m.q, m.dq = 1, float(rng.normal()), float(rng.normal())
        m.tau, m.kp, m.kd = float(rng.normal()), float(rng.uniform(0, 300)), float(rng.uniform(0, 5))
    return cmd


def _sdk_state(rng: np.random.Generator):
    state = unitree_hg_msg_dds__LowState_()
    state.tick = int(rng.integers(0, 2**32))
    state.imu_state.quaternion = rng.normal(size=4).tolist()
    state.imu_state.gyroscope = rng.normal(size=3).tolist()
    for m in state.motor_state:
        m.q, m.dq, m.tau_est = (float(x) for x in rng.normal(size=3))
        m.temperature = [int(x) for x in rng.integers(20, 80, size=2)]
    return state


@pytest.mark.parametrize("seed", range(5))
def test_packed_bytes_are_cyclonedds_serialization(seed: int) -> None:
    """The numpy codec reads what cyclonedds writes for Unitree's types and writes the same bytes."""
    rng = np.random.default_rng(seed)
    theirs_cmd, theirs_state = _sdk_cmd(rng), _sdk_state(rng)
    crc = sdk.CRC()
    theirs_cmd.crc, theirs_state.crc = crc.Crc(theirs_cmd), crc.Crc(theirs_state)
    pr, machine, rows, carried, computed = unpack_low_cmd(theirs_cmd.serialize())
    assert carried == computed == theirs_cmd.crc and machine == theirs_cmd.mode_machine
    assert pack_low_cmd(pr, machine, rows) == theirs_cmd.serialize()
    fields, carried, computed = unpack_low_state(theirs_state.serialize())
    assert carried == computed == theirs_state.crc and fields.tick == theirs_state.tick
    np.testing.assert_array_equal(fields.q, np.float32([m.q for m in theirs_state.motor_state]))
    np.testing.assert_array_equal(fields.temperature, [m.temperature[0] for m in theirs_state.motor_state])
    for m in theirs_state.motor_state:      # the packer writes both temperature words the same
        m.temperature = [m.temperature[0]] * 2
    theirs_state.imu_state.temperature = fields.imu_temperature
    theirs_state.crc = crc.Crc(theirs_state)
    assert pack_low_state(fields) == theirs_state.serialize()


@pytest.mark.parametrize("seed", range(5))
def test_crc_is_unitrees_and_messages_are_byte_compatible(seed: int) -> None:
    rng = np.random.default_rng(seed)
    crc = sdk.CRC()
    theirs_cmd, theirs_state = _sdk_cmd(rng), _sdk_state(rng)
    ours_cmd = hg.LowCmd_.deserialize(theirs_cmd.serialize())
    ours_state = hg.LowState_.deserialize(theirs_state.serialize())
    assert low_cmd_crc_of(ours_cmd.serialize()) == crc.Crc(theirs_cmd)
    assert low_state_crc_of(ours_state.serialize()) == crc.Crc(theirs_state)
    assert ours_cmd.serialize() == theirs_cmd.serialize() and ours_state.serialize() == theirs_state.serialize()
    hand = SdkHandCmd(motor_cmd=theirs_cmd.motor_cmd[:7], reserve=[0, 0, 0, 0])
    assert hg.HandCmd_.deserialize(hand.serialize()).serialize() == hand.serialize()
    assert hg.LowCmd_.__idl_typename__ == type(theirs_cmd).__idl_typename__


def test_codec_round_trip_and_crc_guard() -> None:
    robot = load_description("g1-functional")
    layout = MotorLayout.of(robot)
    assert len(layout.body) == 29 and {s: len(m) for s, m in layout.hands.items()} == {"left": 7, "right": 7}
    rng = np.random.default_rng(3)
    n = len(robot.motors)
    cmd = LowCmd.zeros(n)
    cmd.motor_cmd.q[:] = rng.normal(size=n)
    cmd.motor_cmd.kp[:] = rng.uniform(0, 100, size=n)
    cmd.motor_cmd.mode[:5] = 0
    body, hands = encode_cmd(cmd, layout)
    back = decode_cmd(body, hands, layout)
    np.testing.assert_allclose(back.motor_cmd.q, cmd.motor_cmd.q, atol=1e-6)
    np.testing.assert_allclose(back.motor_cmd.kp, cmd.motor_cmd.kp, rtol=1e-6)
    assert (back.motor_cmd.mode == cmd.motor_cmd.mode).all()
    without_hands = decode_cmd(body, {}, layout)        # no hand command yet: the fingers are disabled
    assert (without_hands.motor_cmd.mode[list(layout.hands["left"])] == 0).all()
    as_sdk = SdkLowCmd.deserialize(body)                 # what Unitree's SDK reads from our bytes
    assert as_sdk.motor_cmd[0].q == pytest.approx(cmd.motor_cmd.q[0], abs=1e-6) and sdk.CRC().Crc(as_sdk) == as_sdk.crc
    corrupted = bytearray(body)
    corrupted[40] ^= 0x01                                # a bit flipped on the way: dropped
    with pytest.raises(CrcMismatch):
        decode_cmd(bytes(corrupted), hands, layout)

    sim = SimBody(robot)
    for _ in range(5):
        state = sim.step(None)
    msg, hand_states, extra = encode_state(state, layout)
    as_sdk = SdkLowState.deserialize(msg)
    assert as_sdk.tick == state.tick and sdk.CRC().Crc(as_sdk) == as_sdk.crc
    assert as_sdk.motor_state[3].q == pytest.approx(state.motor_state.q[3], abs=1e-6)
    got = decode_state(msg, hand_states, extra, layout, len(robot.touch), sim.control_dt_s)
    assert got.tick == state.tick and got.time_s == pytest.approx(state.time_s)
    np.testing.assert_allclose(got.motor_state.q, state.motor_state.q, atol=1e-6)
    np.testing.assert_allclose(got.foot_force_N, state.foot_force_N, rtol=1e-5)
    np.testing.assert_allclose(got.touch_N, state.touch_N, atol=1e-5)
    alone = decode_state(msg, {}, None, layout, len(robot.touch), sim.control_dt_s)   # a G1: no extra topics
    assert np.isnan(alone.foot_force_N).all() and np.isnan(alone.motor_state.q[list(layout.hands["right"])]).all()


def _serve(seconds: float, robot: str = "g1-basic", *extra: str) -> subprocess.Popen:
    return subprocess.Popen([*LAOSHAN, "sim", "--dds", "--robot", robot, "--seconds", str(seconds),
                             "--domain", str(DOMAIN), *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=ROOT)


def _summary(server: subprocess.Popen) -> str:
    out, _ = server.communicate(timeout=60)
    return out


def test_unitree_sdk_client_reads_states_and_drives_the_served_robot() -> None:
    server = _serve(8.0)
    try:
        client = subprocess.run([sys.executable, str(ROOT / "examples" / "unitree_sdk_client.py"), "--domain",
                                 str(DOMAIN), "--seconds", "3", "--elbow-target", "0.3"],
                                capture_output=True, text=True, timeout=60)
    finally:
        out = _summary(server)
    assert client.returncode == 0, client.stderr
    seen = json.loads(client.stdout.strip().splitlines()[-1])
    assert seen["bad_crc"] == 0 and seen["states"] > 1000
    assert 450 <= seen["rate_Hz"] <= 550                         # the 500 Hz state
    assert abs(seen["elbow_start"] - 0.9) < 0.1                  # the home posture, then ...
    assert abs(seen["elbow_end"] - seen["elbow_target"]) < 0.1   # ... where the SDK client sent the elbow
    assert re.search(r"fell while commanded \(ground truth\) +no", out), out


def test_stand_and_walk_over_dds_in_real_time() -> None:
    server = _serve(9.0)
    try:
        stand = subprocess.run([*LAOSHAN, "stand", "--dds", "--domain", str(DOMAIN), "--seconds", "5"],
                               capture_output=True, text=True, timeout=60, cwd=ROOT)
    finally:
        out = _summary(server)
    assert stand.returncode == 0, stand.stdout + stand.stderr
    assert re.search(r"fell while commanded \(ground truth\) +no", out), out

    server = _serve(16.0)
    time.sleep(0.5)
    try:
        walk = subprocess.run([*LAOSHAN, "walk", "--dds", "--domain", str(DOMAIN), "--vx", "0.3", "--distance", "2"],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
    finally:
        out = _summary(server)
    assert walk.returncode == 0, walk.stdout + walk.stderr
    rows = walk.stdout.splitlines()
    distance = float(next(line for line in rows if line.startswith("estimated distance")).split()[-1])
    assert distance >= 2.0
    assert re.search(r"fell while commanded \(ground truth\) +no", out), out


def test_client_without_a_robot_gets_a_clear_error() -> None:
    run = subprocess.run([*LAOSHAN, "stand", "--dds", "--domain", str(DOMAIN + 1), "--seconds", "1", "--wait", "1"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 1 and "no LowState_ on rt/lowstate" in run.stderr and "laoshan sim --dds" in run.stderr


def test_instruction_over_dds_with_the_executive() -> None:
    """The same executive and skills as in-process, as a DDS client: it looks (frames on their own
    topic), plans beside the loop and places the box; the simulator's ground truth says where it is."""
    server = _serve(60.0, "g1-functional", "--scene", "table", "--seed", "3", "--idle-exit", "0.5")
    try:
        do = subprocess.run([*LAOSHAN, "do", "--dds", "--domain", str(DOMAIN), "把红色的盒子放到二号工位上"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    finally:
        out = _summary(server)
    assert do.returncode == 0, do.stdout + do.stderr
    assert '"skill": "pick"' in do.stdout and "done: seen at" in do.stdout
    assert re.search(r"fell while commanded \(ground truth\) +no", out), out
    box = re.search(r"box ends at \[m\] \(ground truth\) +([-\d.]+), ([-\d.]+), ([-\d.]+)", out)
    assert box, out
    assert np.hypot(float(box[1]) - 0.42, float(box[2]) + 0.10) < 0.02      # on station 2
