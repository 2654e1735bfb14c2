"""A client written against Unitree's own Python SDK (``unitree_sdk2py``), nothing of Laoshan's.

As Unitree's G1 low-level examples do: join the domain, read ``rt/lowstate`` and check each
state's CRC, then write ``rt/lowcmd`` (with its CRC) holding the legs and waist at the posture
they are in and moving the left elbow to a target. Prints one JSON line: the state rate, the CRC
failures, and where the elbow went. Run it against ``laoshan sim --dds`` (or a G1):

    python examples/unitree_sdk_client.py --domain 1 --interface lo --seconds 3
"""

import argparse
import json
import threading
import time

from unitree_sdk2py.core.channel import ChannelFactoryInitialize, ChannelPublisher, ChannelSubscriber
from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_
from unitree_sdk2py.idl.unitree_hg.msg.dds_ import LowCmd_, LowState_
from unitree_sdk2py.utils.crc import CRC

LEFT_ELBOW = 18          # G1 29-DoF joint index (unitree_hg motor order)
BODY_JOINTS = 29


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--domain", type=int, default=1)
    parser.add_argument("--interface", default="lo")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--elbow-target", type=float, default=0.3)
    args = parser.parse_args()

    ChannelFactoryInitialize(args.domain, args.interface)
    crc = CRC()
    lock = threading.Lock()
    seen = {"states": 0, "bad_crc": 0, "first_s": None, "last_s": None, "state": None}

    def on_state(msg: LowState_) -> None:
        with lock:
            seen["states"] += 1
            seen["bad_crc"] += int(crc.Crc(msg) != msg.crc)
            seen["first_s"] = seen["first_s"] or time.monotonic()
            seen["last_s"] = time.monotonic()
            seen["state"] = msg

    sub = ChannelSubscriber("rt/lowstate", LowState_)
    sub.Init(on_state, 10)
    pub = ChannelPublisher("rt/lowcmd", LowCmd_)
    pub.Init()
    while seen["state"] is None:
        time.sleep(0.01)
    with lock:
        start = seen["state"]
        hold = [start.motor_state[i].q for i in range(BODY_JOINTS)]
        elbow_start = start.motor_state[LEFT_ELBOW].q
    cmd = unitree_hg_msg_dds__LowCmd_()
    cmd.mode_machine = start.mode_machine
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        for i in range(BODY_JOINTS):
            m = cmd.motor_cmd[i]
            m.mode, m.q, m.dq, m.tau = 1, hold[i], 0.0, 0.0
            m.kp, m.kd = (60.0, 1.5) if i >= 15 else (250.0, 5.0)
        cmd.motor_cmd[LEFT_ELBOW].q = args.elbow_target
        cmd.crc = crc.Crc(cmd)
        pub.Write(cmd)
        time.sleep(0.002)
    with lock:
        rate = (seen["states"] - 1) / (seen["last_s"] - seen["first_s"])
        print(json.dumps({"states": seen["states"], "rate_Hz": rate, "bad_crc": seen["bad_crc"],
                          "elbow_start": elbow_start, "elbow_end": seen["state"].motor_state[LEFT_ELBOW].q,
                          "elbow_target": args.elbow_target}))


if __name__ == "__main__":
    main()
