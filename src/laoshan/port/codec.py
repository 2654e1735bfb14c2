"""Our ``LowCmd``/``LowState`` to and from the G1's DDS messages, motor by motor.

The description's motors split by where they sit: the body's (legs, waist, arms) fill
``LowCmd_.motor_cmd`` / ``LowState_.motor_state`` slots 0, 1, … in command order (the G1's 29 of
its 35 slots; the rest are sent disabled); each hand's fingers go to its Dex3 ``HandCmd_`` /
``HandState_`` in command order, and the hand's touch pads to its ``press_sensor_state`` (one per
pad, the pad's force in ``pressure[0]`` [N]). Every ``LowCmd_`` and ``LowState_`` carries Unitree's
CRC; a message whose CRC does not match is not decoded (the G1's drivers drop it the same way).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from laoshan.port import unitree_hg as hg
from laoshan.port.cdr import MotorRows, StateFields, pack_low_cmd, pack_low_state, unpack_low_cmd, unpack_low_state
from laoshan.port.extra_topics import RgbdFrame_, Sensors_
from laoshan.port.messages import BmsState, ImuState, LowCmd, LowState, MotorCmds, MotorStates, RgbdFrame
from laoshan.robot.description import RobotDescription

FloatArray = NDArray[np.float64]


EXTRA_TICKS = 5   # a Sensors_ sample this many ticks from the LowState_ still goes with it (topics are not ordered)


class CrcMismatch(ValueError):
    """A ``LowCmd_`` or ``LowState_`` whose CRC is not the one its contents give."""


@dataclass(frozen=True)
class MotorLayout:
    """Where each motor of a robot description travels on DDS."""

    n_motors: int
    body: tuple[int, ...]                     # description motor index of LowCmd_ slot 0, 1, …
    hands: dict[str, tuple[int, ...]]         # side -> description motor index of HandCmd_ motor 0, 1, …
    touch: dict[str, tuple[int, ...]]         # side -> touch pad index of press_sensor_state 0, 1, …
    n_feet: int

    @classmethod
    def of(cls, robot: RobotDescription) -> "MotorLayout":
        hands = {side: h.motors for side, h in robot.hands.items() if h.motors}
        in_hands = {i for motors in hands.values() for i in motors}
        body = tuple(i for i in range(len(robot.motors)) if i not in in_hands)
        if len(body) > hg.BODY_MOTOR_SLOTS:
            raise ValueError(f"{robot.name} has {len(body)} body motors; LowCmd_ has {hg.BODY_MOTOR_SLOTS} slots")
        return cls(len(robot.motors), body, hands, {side: robot.hands[side].touch for side in hands},
                   len(robot.feet))


# --- commands: client -> robot --------------------------------------------------------------------

def _motor_cmd(mode: int, q: float, dq: float, tau: float, kp: float, kd: float) -> hg.MotorCmd_:
    return hg.MotorCmd_(mode=mode, q=q, dq=dq, tau=tau, kp=kp, kd=kd, reserve=0)


def encode_cmd(cmd: LowCmd, layout: MotorLayout) -> tuple[bytes, dict[str, hg.HandCmd_]]:
    """``cmd`` as the body's serialized ``LowCmd_`` (its CRC set) and each hand's ``HandCmd_``."""
    m = cmd.motor_cmd
    body = list(layout.body)
    k = len(body)
    rows = MotorRows(np.zeros(hg.BODY_MOTOR_SLOTS, np.uint8),
                     *(np.zeros(hg.BODY_MOTOR_SLOTS, np.float32) for _ in range(5)))
    for name in ("mode", "q", "dq", "tau", "kp", "kd"):
        getattr(rows, name)[:k] = np.asarray(getattr(m, name))[body]
    msg = pack_low_cmd(int(cmd.mode_pr), int(cmd.mode_machine), rows)
    cols = np.array([m.mode, m.q, m.dq, m.tau, m.kp, m.kd], dtype=float)
    hands = {side: hg.HandCmd_(motor_cmd=[_motor_cmd(int(c[0]), *c[1:].tolist()) for c in cols[:, list(motors)].T],
                               reserve=[0, 0, 0, 0])
             for side, motors in layout.hands.items()}
    return msg, hands


def decode_cmd(msg: bytes, hands: dict[str, hg.HandCmd_ | None], layout: MotorLayout) -> LowCmd:
    """One ``LowCmd`` from the body's serialized ``LowCmd_`` and the latest ``HandCmd_`` of each
    hand (a hand with none yet, or one of the wrong length: its motors disabled). Raises CrcMismatch."""
    mode_pr, mode_machine, body, carried, computed = unpack_low_cmd(msg)
    if carried != computed:
        raise CrcMismatch("LowCmd_ CRC does not match its contents")
    n = layout.n_motors
    rows = np.zeros((6, n))     # mode, q, dq, tau, kp, kd
    slots = list(layout.body)
    rows[:, slots] = np.array([body.mode, body.q, body.dq, body.tau, body.kp, body.kd], dtype=float)[:, :len(slots)]
    for side, motors in layout.hands.items():
        hand = hands.get(side)
        if hand is not None and len(hand.motor_cmd) == len(motors):
            for c, i in zip(hand.motor_cmd, motors, strict=True):
                rows[:, i] = (c.mode, c.q, c.dq, c.tau, c.kp, c.kd)
    return LowCmd(MotorCmds(rows[0].astype(np.int8), rows[1], rows[2], rows[3], rows[4], rows[5]),
                  mode_pr=int(mode_pr), mode_machine=int(mode_machine))


# --- states: robot -> client ----------------------------------------------------------------------

def _motor_states(ms: MotorStates, motors: tuple[int, ...]) -> list[hg.MotorState_]:
    cols = zip(*(np.asarray(x)[list(motors)].tolist() for x in (ms.mode, ms.q, ms.dq, ms.ddq, ms.tau_est,
                                                                ms.temperature)), strict=True)
    return [hg.MotorState_(mode=int(mode), q=q, dq=dq, ddq=ddq, tau_est=tau, temperature=[round(temp)] * 2, vol=0.0,
                           sensor=[0, 0], motorstate=0, reserve=[0, 0, 0, 0])
            for mode, q, dq, ddq, tau, temp in cols]


_NO_IMU = hg.IMUState_(quaternion=[1.0, 0.0, 0.0, 0.0], gyroscope=[0.0] * 3, accelerometer=[0.0] * 3, rpy=[0.0] * 3,
                       temperature=0)


def encode_state(state: LowState, layout: MotorLayout) -> tuple[bytes, dict[str, hg.HandState_], Sensors_]:
    """``state`` as the body's serialized ``LowState_`` (its CRC set; a sensor without a reading yet
    sends NaN), each hand's ``HandState_`` and the extra sensors' ``Sensors_``."""
    imu, ms = state.imu_state, state.motor_state
    body = list(layout.body)

    def slots(values: np.ndarray, dtype: type) -> np.ndarray:
        out = np.zeros(hg.BODY_MOTOR_SLOTS, dtype)
        out[:len(body)] = np.asarray(values)[body]
        return out

    tick = int(state.tick) & 0xFFFFFFFF
    msg = pack_low_state(StateFields(
        tick=tick, mode_pr=int(state.mode_pr), mode_machine=int(state.mode_machine),
        quaternion=imu.quaternion, gyroscope=imu.gyroscope, accelerometer=imu.accelerometer, rpy=imu.rpy,
        imu_temperature=40, mode=slots(ms.mode, np.uint8), q=slots(ms.q, np.float32), dq=slots(ms.dq, np.float32),
        ddq=slots(ms.ddq, np.float32), tau_est=slots(ms.tau_est, np.float32),
        temperature=slots(np.round(ms.temperature), np.int16)))
    hands = {}
    for side, motors in layout.hands.items():
        pads = [hg.PressSensorState_(pressure=[float(state.touch_N[k])] + [0.0] * 11, temperature=[0.0] * 12,
                                     lost=0, reserve=0) for k in layout.touch[side]]
        hands[side] = hg.HandState_(motor_state=_motor_states(ms, motors), press_sensor_state=pads, imu_state=_NO_IMU,
                                    power_v=0.0, power_a=0.0, system_v=0.0, device_v=0.0, error=[0, 0], reserve=[0, 0])
    b = state.bms
    extra = Sensors_(tick=tick, foot_force=np.asarray(state.foot_force_N, float).tolist(), bms_soc=b.soc,
                     bms_voltage=b.voltage_V, bms_current=b.current_A, bms_fault=b.fault,
                     cmd_rejected=state.cmd_rejected, damping_active=int(state.damping_active))
    return msg, hands, extra


def decode_state(msg: bytes, hands: dict[str, hg.HandState_ | None], extra: Sensors_ | None,
                 layout: MotorLayout, n_touch: int, control_dt_s: float) -> LowState:
    """One ``LowState`` from the body's serialized ``LowState_``, the latest ``HandState_`` of each
    hand and the latest ``Sensors_`` (None, or one more than ``EXTRA_TICKS`` from the state's: sole
    forces NaN, battery unknown; a hand with no state yet: its motors and pads NaN). Raises CrcMismatch."""
    f, carried, computed = unpack_low_state(msg)
    if carried != computed:
        raise CrcMismatch("LowState_ CRC does not match its contents")
    n = layout.n_motors
    cols = np.full((6, n), np.nan)     # mode, q, dq, ddq, tau_est, temperature
    body = list(layout.body)
    cols[:, body] = np.array([f.mode, f.q, f.dq, f.ddq, f.tau_est, f.temperature], dtype=float)[:, :len(body)]
    touch = np.full(n_touch, np.nan)
    for side, motors in layout.hands.items():
        hand = hands.get(side)
        if hand is None or len(hand.motor_state) != len(motors):
            continue
        for s, i in zip(hand.motor_state, motors, strict=True):
            cols[:, i] = (s.mode, s.q, s.dq, s.ddq, s.tau_est, s.temperature[0])
        for pad, k in zip(hand.press_sensor_state, layout.touch[side], strict=False):
            touch[k] = pad.pressure[0]
    fresh = extra is not None and abs(int(extra.tick) - f.tick) <= EXTRA_TICKS
    if extra is not None and fresh and len(extra.foot_force) == layout.n_feet:
        feet = np.array(extra.foot_force, float)
        bms = BmsState(soc=extra.bms_soc, voltage_V=extra.bms_voltage, current_A=extra.bms_current,
                       fault=extra.bms_fault)
        rejected, damping = extra.cmd_rejected, bool(extra.damping_active)
    else:
        feet = np.full(layout.n_feet, np.nan)
        bms = BmsState(soc=np.nan, voltage_V=np.nan, current_A=np.nan)
        rejected, damping = "", False
    return LowState(
        tick=f.tick, time_s=f.tick * control_dt_s,
        motor_state=MotorStates(q=cols[1], dq=cols[2], ddq=cols[3], tau_est=cols[4], temperature=cols[5],
                                mode=np.nan_to_num(cols[0]).astype(np.int8)),
        imu_state=ImuState(f.quaternion.astype(float), f.gyroscope.astype(float), f.accelerometer.astype(float),
                           f.rpy.astype(float)),
        foot_force_N=feet, touch_N=touch, bms=bms, mode_pr=int(f.mode_pr), mode_machine=int(f.mode_machine),
        cmd_rejected=rejected, damping_active=damping)


# --- camera frames --------------------------------------------------------------------------------

def encode_frame(camera: str, frame: RgbdFrame) -> RgbdFrame_:
    h, w = frame.depth_m.shape
    return RgbdFrame_(camera=camera, stamp_s=frame.time_s, width=w, height=h, fx=frame.fx_px, fy=frame.fy_px,
                      cx=frame.cx_px, cy=frame.cy_px, rgb=np.ascontiguousarray(frame.rgb, np.uint8).tobytes(),
                      depth_m=np.ascontiguousarray(frame.depth_m, "<f4").tobytes())


def decode_frame(msg: RgbdFrame_) -> RgbdFrame:
    h, w = msg.height, msg.width
    rgb = np.frombuffer(bytes(msg.rgb), np.uint8).reshape(h, w, 3)
    depth = np.frombuffer(bytes(msg.depth_m), "<f4").reshape(h, w).astype(np.float32)
    return RgbdFrame(time_s=msg.stamp_s, rgb=rgb, depth_m=depth, fx_px=msg.fx, fy_px=msg.fy, cx_px=msg.cx,
                     cy_px=msg.cy)
