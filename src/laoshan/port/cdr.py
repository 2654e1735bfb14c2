"""``LowCmd_`` and ``LowState_`` packed and unpacked with numpy, byte for byte as ``cyclonedds``
serializes them (XCDR1, little-endian), with Unitree's CRC.

Why by hand: building and parsing the 35 nested ``MotorState_`` objects costs ``cyclonedds`` about
0.3 ms a message each way in Python; at 500 Hz, on both sides of the link, that is a third of the
tick. Both messages have a fixed size, so their bytes are written through strided numpy views
(about 30 µs). ``tests/test_dds.py`` checks the bytes against ``cyclonedds``' own serialization of
Unitree's SDK types, field by field, both ways.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from laoshan.port.crc import crc32_words
from laoshan.port.unitree_hg import BODY_MOTOR_SLOTS as N

CDR_HEADER = b"\x00\x01\x00\x00"        # XCDR1, little-endian
LOW_CMD_BYTES = 4 + 1000
LOW_STATE_BYTES = 4 + 2088
_CMD_MOTOR = 28                          # MotorCmd_ stride [bytes]
_STATE_MOTOR = 56                        # MotorState_ stride [bytes]


def _view(buf: bytearray | bytes | memoryview, dtype: str, offset: int, count: int = 1, stride: int = 0,
          width: int = 1) -> np.ndarray:
    """``count`` values (each ``width`` wide) of ``dtype`` at ``offset``, ``stride`` bytes apart."""
    item = np.dtype(dtype).itemsize
    shape, strides = ((count, width), (stride, item)) if width > 1 else ((count,), (stride or item,))
    return np.ndarray(shape, dtype=dtype, buffer=buf, offset=offset, strides=strides)


@dataclass
class MotorRows:
    """Per-motor-slot fields of a command: mode, q, dq, tau, kp, kd (35 each)."""

    mode: NDArray[np.uint8]
    q: NDArray[np.float32]
    dq: NDArray[np.float32]
    tau: NDArray[np.float32]
    kp: NDArray[np.float32]
    kd: NDArray[np.float32]


def _cmd_views(buf: bytearray | bytes) -> dict[str, np.ndarray]:
    """The motor fields of a ``LowCmd_`` buffer (header included): motor 0's mode right after
    ``mode_machine``, the others' at the end of the motor before; each motor's floats 4-aligned."""
    q0 = 4 + 4
    return {name: _view(buf, "<f4", q0 + 4 * k, N, _CMD_MOTOR) for k, name in enumerate(("q", "dq", "tau", "kp", "kd"))
            } | {"mode_rest": _view(buf, "u1", 4 + _CMD_MOTOR, N - 1, _CMD_MOTOR)}


def pack_low_cmd(mode_pr: int, mode_machine: int, rows: MotorRows) -> bytes:
    """A ``LowCmd_``'s serialized bytes, its CRC set (reserved fields zero)."""
    buf = bytearray(LOW_CMD_BYTES)
    buf[:4] = CDR_HEADER
    buf[4], buf[5], buf[6] = mode_pr, mode_machine, int(rows.mode[0])
    v = _cmd_views(buf)
    v["mode_rest"][:] = rows.mode[1:]
    for name in ("q", "dq", "tau", "kp", "kd"):
        v[name][:] = getattr(rows, name)
    _view(buf, "<u4", 4 + 996)[:] = low_cmd_crc_of(buf)
    return bytes(buf)


def unpack_low_cmd(data: bytes) -> tuple[int, int, MotorRows, int, int]:
    """(mode_pr, mode_machine, rows, crc carried, crc of the contents) of a ``LowCmd_``'s bytes."""
    if len(data) < LOW_CMD_BYTES:
        raise ValueError(f"a LowCmd_ is {LOW_CMD_BYTES} bytes, got {len(data)}")
    v = _cmd_views(data)
    mode = np.concatenate([[data[6]], v["mode_rest"]]).astype(np.uint8)
    rows = MotorRows(mode, *(v[name].copy() for name in ("q", "dq", "tau", "kp", "kd")))
    return data[4], data[5], rows, int(_view(data, "<u4", 4 + 996)[0]), low_cmd_crc_of(data)


def low_cmd_crc_of(data: bytes | bytearray) -> int:
    """Unitree's CRC of a serialized ``LowCmd_``: over the C struct the SDK packs (the motors 2
    bytes later than on the wire, each mode padded to 4 bytes)."""
    wire = np.frombuffer(bytes(data[4:LOW_CMD_BYTES]), np.uint8)
    c = np.zeros(1004, np.uint8)
    c[:2] = wire[:2]
    motors = c[4:4 + N * _CMD_MOTOR].reshape(N, _CMD_MOTOR)
    motors[0, 0] = wire[2]
    motors[1:, 0] = wire[_CMD_MOTOR:N * _CMD_MOTOR:_CMD_MOTOR]
    motors[:, 4:] = np.lib.stride_tricks.as_strided(wire[4:], shape=(N, 24), strides=(_CMD_MOTOR, 1))
    c[984:] = wire[980:1000]
    return crc32_words(c.tobytes())


@dataclass
class StateFields:
    """A ``LowState_``'s fields (motors: 35 slots)."""

    tick: int
    mode_pr: int
    mode_machine: int
    quaternion: NDArray[np.float32]      # (4,)
    gyroscope: NDArray[np.float32]       # (3,)
    accelerometer: NDArray[np.float32]   # (3,)
    rpy: NDArray[np.float32]             # (3,)
    imu_temperature: int
    mode: NDArray[np.uint8]              # (35,) each
    q: NDArray[np.float32]
    dq: NDArray[np.float32]
    ddq: NDArray[np.float32]
    tau_est: NDArray[np.float32]
    temperature: NDArray[np.int16]       # (35,): both of MotorState_.temperature


def _motor_views(buf: bytearray | bytes) -> dict[str, np.ndarray]:
    """The motor fields of a ``LowState_`` buffer (header included): motor 0's mode sits right
    after the IMU's temperature, the others' at the end of the motor before (CDR aligns each
    MotorState_ only to 4 bytes for its floats)."""
    q0 = 4 + 72
    return {name: _view(buf, dtype, q0 + 4 * k, N, _STATE_MOTOR)
            for k, (name, dtype) in enumerate((("q", "<f4"), ("dq", "<f4"), ("ddq", "<f4"), ("tau_est", "<f4")))} | {
        "temperature": _view(buf, "<i2", q0 + 16, N, _STATE_MOTOR, 2),
        "mode_rest": _view(buf, "u1", 4 + 72 + _STATE_MOTOR - 4, N - 1, _STATE_MOTOR)}


def pack_low_state(f: StateFields) -> bytes:
    """A ``LowState_``'s serialized bytes, its CRC set (spare fields zero)."""
    buf = bytearray(LOW_STATE_BYTES)
    buf[:4] = CDR_HEADER
    _view(buf, "<u4", 4 + 12)[:] = f.tick
    buf[4 + 8], buf[4 + 9] = f.mode_pr, f.mode_machine
    for offset, value in ((20, f.quaternion), (36, f.gyroscope), (48, f.accelerometer), (60, f.rpy)):
        _view(buf, "<f4", offset, len(value))[:] = value
    _view(buf, "<i2", 4 + 68)[:] = f.imu_temperature
    buf[4 + 70] = int(f.mode[0])
    v = _motor_views(buf)
    v["mode_rest"][:] = f.mode[1:]
    for name in ("q", "dq", "ddq", "tau_est"):
        v[name][:] = getattr(f, name)
    v["temperature"][:] = np.asarray(f.temperature)[:, None]
    _view(buf, "<u4", 4 + 2084)[:] = low_state_crc_of(buf)
    return bytes(buf)


def unpack_low_state(data: bytes) -> tuple[StateFields, int, int]:
    """(fields, crc carried, crc of the contents) of a ``LowState_``'s bytes."""
    if len(data) < LOW_STATE_BYTES:
        raise ValueError(f"a LowState_ is {LOW_STATE_BYTES} bytes, got {len(data)}")
    v = _motor_views(data)
    mode = np.concatenate([[data[4 + 70]], v["mode_rest"]]).astype(np.uint8)
    fields = StateFields(
        tick=int(_view(data, "<u4", 16)[0]), mode_pr=data[12], mode_machine=data[13],
        quaternion=_view(data, "<f4", 20, 4).copy(), gyroscope=_view(data, "<f4", 36, 3).copy(),
        accelerometer=_view(data, "<f4", 48, 3).copy(), rpy=_view(data, "<f4", 60, 3).copy(),
        imu_temperature=int(_view(data, "<i2", 72)[0]), mode=mode,
        **{name: v[name].copy() for name in ("q", "dq", "ddq", "tau_est")}, temperature=v["temperature"][:, 0].copy())
    return fields, int(_view(data, "<u4", 4 + 2084)[0]), low_state_crc_of(data)


def low_state_crc_of(data: bytes | bytearray) -> int:
    """Unitree's CRC of a serialized ``LowState_``: over the message laid out as the C struct the
    SDK packs (the motors 4 bytes later than on the wire: the C struct pads the IMU to 4 bytes and
    each motor's mode to 4)."""
    wire = np.frombuffer(bytes(data[4:LOW_STATE_BYTES]), np.uint8)
    c = np.zeros(2092, np.uint8)
    c[:70] = wire[:70]
    motors = c[72:72 + N * _STATE_MOTOR].reshape(N, _STATE_MOTOR)
    motors[0, 0] = wire[70]
    motors[1:, 0] = wire[68 + _STATE_MOTOR:68 + N * _STATE_MOTOR:_STATE_MOTOR]
    motors[:, 4:] = np.lib.stride_tricks.as_strided(wire[72:], shape=(N, 52), strides=(_STATE_MOTOR, 1))
    c[2032:] = wire[2028:2088]
    return crc32_words(c.tobytes())
