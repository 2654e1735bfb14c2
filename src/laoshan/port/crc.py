"""The CRC32 that guards the G1's ``LowCmd_`` and ``LowState_``, computed as Unitree's SDK computes it.

Unitree's SDK packs the message as its C struct (little-endian, natural alignment), reads it as
32-bit words, drops the last (the ``crc`` field itself) and runs a word-wise CRC-32 (polynomial
0x04C11DB7, initial value 0xFFFFFFFF, most significant bit first, no final XOR) over them: that is
CRC-32/MPEG-2 of the words' bytes in big-endian order. Done here with ``zlib`` (the same
polynomial, bit-reflected, in C) on the bit-reversed bytes: about 20 µs a message in place of a
Python loop's 5 ms. ``tests/test_dds.py`` checks it against the SDK's own implementation.
"""

import struct
import zlib

import numpy as np

from laoshan.port.unitree_hg import BODY_MOTOR_SLOTS, LowCmd_, LowState_

# The C structs' layouts (``unitree_hg`` LowCmd_ 1004 bytes, LowState_ 2092 bytes), as the SDK packs them.
LOW_CMD_LAYOUT = struct.Struct("<2B2x" + "B3x5fI" * BODY_MOTOR_SLOTS + "5I")
LOW_STATE_LAYOUT = struct.Struct("<2I2B2xI" + "13fh2x" + "B3x4f2hf7I" * BODY_MOTOR_SLOTS + "40B5I")

_BIT_REVERSED = np.array([int(f"{b:08b}"[::-1], 2) for b in range(256)], dtype=np.uint8)


def crc32_words(packed: bytes) -> int:
    """Unitree's CRC over the 32-bit little-endian words of ``packed``, all but the last."""
    words = np.frombuffer(packed, dtype=np.uint8)[: (len(packed) // 4 - 1) * 4].reshape(-1, 4)
    msb_first = _BIT_REVERSED[words[:, ::-1]]          # each word's bytes big-endian, each byte bit-reversed
    reflected = zlib.crc32(msb_first.tobytes()) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def low_cmd_crc(msg: LowCmd_) -> int:
    """The ``crc`` field a ``LowCmd_`` must carry."""
    values: list[float | int] = [msg.mode_pr, msg.mode_machine]
    for m in msg.motor_cmd:
        values += (m.mode, m.q, m.dq, m.tau, m.kp, m.kd, m.reserve)
    values += (*msg.reserve, msg.crc)
    return crc32_words(LOW_CMD_LAYOUT.pack(*values))


def low_state_crc(msg: LowState_) -> int:
    """The ``crc`` field a ``LowState_`` must carry."""
    imu = msg.imu_state
    values: list[float | int] = [*msg.version, msg.mode_pr, msg.mode_machine, msg.tick, *imu.quaternion,
                                 *imu.gyroscope, *imu.accelerometer, *imu.rpy, imu.temperature]
    for m in msg.motor_state:
        values += (m.mode, m.q, m.dq, m.ddq, m.tau_est, *m.temperature, m.vol, *m.sensor, m.motorstate, *m.reserve)
    values += (*msg.wireless_remote, *msg.reserve, msg.crc)
    return crc32_words(LOW_STATE_LAYOUT.pack(*values))
