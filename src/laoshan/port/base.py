"""The robot port: the one interface everything above the motor drivers drives a robot through.

``step(cmd)`` sends one ``LowCmd`` (hand commands are its finger motors) and returns the robot's
next ``LowState`` (with the newest camera frames of the streams that are on); ``streaming`` turns
the camera streams on and off; ``time_s`` is the robot's clock at the last state. Two transports
implement it: the simulator in-process (``laoshan.sim.body.SimBody``, one physics tick per step,
as fast as the computer goes) and DDS (:class:`laoshan.port.dds.DdsPort`, the G1's ``unitree_hg``
topics in real time against a G1 or any simulator serving them).
"""

from typing import Protocol

from laoshan.port.messages import LowCmd, LowState
from laoshan.robot.description import RobotDescription


class RobotPort(Protocol):
    """A robot, as its controllers see it."""

    robot: RobotDescription
    streaming: bool              # the camera streams are on: LowState.rgbd receives new frames
    realtime: bool               # the robot's clock runs on whatever the controller does (DDS); False: it
                                 # waits for each command (the in-process simulator)

    @property
    def control_dt_s(self) -> float:
        """The control period [s] (the state rate's inverse)."""
        ...

    @property
    def time_s(self) -> float:
        """The robot's clock at the last state [s]."""
        ...

    def step(self, cmd: LowCmd | None) -> LowState:
        """Send ``cmd`` (None: nothing this tick) and return the next state."""
        ...

    def close(self) -> None:
        """Free what the port holds (renderers, DDS entities)."""
        ...


class PortLost(RuntimeError):
    """The robot stopped answering: no state within the port's timeout."""
