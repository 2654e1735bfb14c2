"""What a simulated robot publishes beyond the G1's own low-level contract, on topics of Laoshan's own.

- ``rt/laoshan/sensors`` (:class:`Sensors_`, with every ``LowState_``): the sole force pads and the
  battery's BMS essentials, which ``unitree_hg`` ``LowState_`` has no field for, and the drivers'
  answer to the last command (rejected and why, damping). A client that finds no such topic (a
  G1, Unitree's simulator) reads the sole forces as missing (NaN) and the battery as unknown.
- ``rt/laoshan/camera/<name>`` (:class:`RgbdFrame_`): a camera's RGB-D frames. On a topic of their
  own, best effort, keeping only the newest, because one frame (the D435 model's 320x240 RGB and
  float depth, 0.5 MB) is 250 times a ``LowState_``: sent on the state's topic it would delay the 500 Hz state, and a
  frame that comes late is better dropped than queued. The real G1's head camera is not on the
  low-level bus either (the RealSense sits on the robot's own computer), so a bridge from it
  publishes the same message.
- ``rt/laoshan/camera/stream`` (:class:`CameraStream_`): a client starts and stops a camera's
  stream (rendering costs the simulator CPU; a real camera's bandwidth is not free either).
"""

from dataclasses import dataclass

import cyclonedds.idl.annotations as annotate
import cyclonedds.idl.types as types
from cyclonedds.idl import IdlStruct

SENSORS_TOPIC = "rt/laoshan/sensors"
CAMERA_TOPIC = "rt/laoshan/camera/{name}"
STREAM_TOPIC = "rt/laoshan/camera/stream"


@dataclass
@annotate.final
@annotate.autoid("sequential")
class Sensors_(IdlStruct, typename="laoshan.msg.dds_.Sensors_"):
    tick: types.uint32                          # the LowState_.tick these belong to
    foot_force: types.sequence[types.float32]   # normal force under each sole [N], description feet order
    bms_soc: types.float32                      # state of charge, 0..1
    bms_voltage: types.float32                  # [V]
    bms_current: types.float32                  # [A], positive = discharge
    bms_fault: str                              # "" or the BMS limit that tripped
    cmd_rejected: str                           # why the drivers rejected the last LowCmd_ ("" if accepted)
    damping_active: types.uint8                 # 1: the drivers damp (no command yet, watchdog, fault)


@dataclass
@annotate.final
@annotate.autoid("sequential")
class RgbdFrame_(IdlStruct, typename="laoshan.msg.dds_.RgbdFrame_"):
    camera: str
    stamp_s: types.float64                      # when the image was taken, the robot's clock [s]
    width: types.uint16
    height: types.uint16
    fx: types.float32                           # pinhole intrinsics [px], optical frame
    fy: types.float32
    cx: types.float32
    cy: types.float32
    rgb: types.sequence[types.uint8]            # height x width x 3, row-major
    depth_m: types.sequence[types.uint8]        # height x width float32 little-endian [m], 0 where no return


@dataclass
@annotate.final
@annotate.autoid("sequential")
class CameraStream_(IdlStruct, typename="laoshan.msg.dds_.CameraStream_"):
    camera: str
    on: types.uint8
