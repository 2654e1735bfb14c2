"""The G1's low-level DDS message types (``unitree_hg::msg::dds_``), declared for ``cyclonedds``.

Field for field what Unitree's IDL files declare (``LowCmd_.idl``, ``LowState_.idl``,
``MotorCmd_.idl``, ``MotorState_.idl``, ``IMUState_.idl``, ``HandCmd_.idl``, ``HandState_.idl``,
``PressSensorState_.idl``), with the same type names, so a sample we write is byte for byte what
Unitree's SDKs and simulators read and write on ``rt/lowcmd``, ``rt/lowstate`` and ``rt/dex3/*``.
Declared here rather than imported from ``unitree_sdk2py`` so that the robot port needs only
``cyclonedds``; ``tests/test_dds.py`` checks both declarations serialize to the same bytes.
"""


from dataclasses import dataclass

import cyclonedds.idl.annotations as annotate
import cyclonedds.idl.types as types
from cyclonedds.idl import IdlStruct

BODY_MOTOR_SLOTS = 35     # LowCmd_.motor_cmd / LowState_.motor_state length on the G1 (29 used, 6 spare)


@dataclass
@annotate.final
@annotate.autoid("sequential")
class MotorCmd_(IdlStruct, typename="unitree_hg.msg.dds_.MotorCmd_"):
    mode: types.uint8
    q: types.float32
    dq: types.float32
    tau: types.float32
    kp: types.float32
    kd: types.float32
    reserve: types.uint32


@dataclass
@annotate.final
@annotate.autoid("sequential")
class MotorState_(IdlStruct, typename="unitree_hg.msg.dds_.MotorState_"):
    mode: types.uint8
    q: types.float32
    dq: types.float32
    ddq: types.float32
    tau_est: types.float32
    temperature: types.array[types.int16, 2]
    vol: types.float32
    sensor: types.array[types.uint32, 2]
    motorstate: types.uint32
    reserve: types.array[types.uint32, 4]


@dataclass
@annotate.final
@annotate.autoid("sequential")
class IMUState_(IdlStruct, typename="unitree_hg.msg.dds_.IMUState_"):
    quaternion: types.array[types.float32, 4]
    gyroscope: types.array[types.float32, 3]
    accelerometer: types.array[types.float32, 3]
    rpy: types.array[types.float32, 3]
    temperature: types.int16


@dataclass
@annotate.final
@annotate.autoid("sequential")
class LowCmd_(IdlStruct, typename="unitree_hg.msg.dds_.LowCmd_"):
    mode_pr: types.uint8
    mode_machine: types.uint8
    motor_cmd: types.array[MotorCmd_, BODY_MOTOR_SLOTS]
    reserve: types.array[types.uint32, 4]
    crc: types.uint32


@dataclass
@annotate.final
@annotate.autoid("sequential")
class LowState_(IdlStruct, typename="unitree_hg.msg.dds_.LowState_"):
    version: types.array[types.uint32, 2]
    mode_pr: types.uint8
    mode_machine: types.uint8
    tick: types.uint32
    imu_state: IMUState_
    motor_state: types.array[MotorState_, BODY_MOTOR_SLOTS]
    wireless_remote: types.array[types.uint8, 40]
    reserve: types.array[types.uint32, 4]
    crc: types.uint32


@dataclass
@annotate.final
@annotate.autoid("sequential")
class PressSensorState_(IdlStruct, typename="unitree_hg.msg.dds_.PressSensorState_"):
    pressure: types.array[types.float32, 12]
    temperature: types.array[types.float32, 12]
    lost: types.uint32
    reserve: types.uint32


@dataclass
@annotate.final
@annotate.autoid("sequential")
class HandCmd_(IdlStruct, typename="unitree_hg.msg.dds_.HandCmd_"):
    motor_cmd: types.sequence[MotorCmd_]
    reserve: types.array[types.uint32, 4]


@dataclass
@annotate.final
@annotate.autoid("sequential")
class HandState_(IdlStruct, typename="unitree_hg.msg.dds_.HandState_"):
    motor_state: types.sequence[MotorState_]
    press_sensor_state: types.sequence[PressSensorState_]
    imu_state: IMUState_
    power_v: types.float32
    power_a: types.float32
    system_v: types.float32
    device_v: types.float32
    error: types.array[types.uint32, 2]
    reserve: types.array[types.uint32, 2]
