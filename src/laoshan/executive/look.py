"""Looking with the head camera while balancing: one glance, a stand-and-look, a look around.

The camera's stream runs only while a look waits for its frame (rendering or sending frames is
not free); the objects in the frame are placed in the world by the robot's own pose estimate.
"""

from collections.abc import Callable

import numpy as np

from laoshan.brain.perception import Detection, detect_objects
from laoshan.cerebellum.beside import Beside
from laoshan.limbs.reach import ReachController
from laoshan.port.base import RobotPort
from laoshan.port.messages import LowState, RgbdFrame

FRAME_TIMEOUT_S = 1.0  # a look whose frame has not come this long after asking: the camera is lost

Observer = Callable[[LowState], None]
"""Sees every state the loop gets (a scenario scores and films the run with it; nothing controls)."""


class CameraLost(RuntimeError):
    """No camera frame came within ``FRAME_TIMEOUT_S`` of asking: what needed the look stops (a
    category 2 stop: the task ends, the robot keeps balancing)."""


class Glance:
    """One look with the robot's head camera: the stream starts when asked and stops at the first
    frame taken after that, whose objects are placed in the world by the robot's own pose estimate
    (found beside the loop on a real-time port)."""

    def __init__(self, port: RobotPort, controller: ReachController, asked_s: float) -> None:
        self.port, self.controller, self.asked_s = port, controller, asked_s
        self.camera = port.robot.cameras[0]
        self.frame_s: float | None = None     # when the frame looked at was taken
        self.frame: RgbdFrame | None = None   # ... the frame itself
        self.X_world_camera: np.ndarray | None = None   # the camera mount's pose then, as the robot estimates it
        self._finding: Beside[list[Detection]] | None = None
        port.streaming = True

    def seen(self, state: LowState) -> list[Detection] | None:
        """The objects in the first frame taken since asking; None while it has not come. Raises
        CameraLost once none has come for ``FRAME_TIMEOUT_S``."""
        if self._finding is not None:
            return self._finding.result() if self._finding.done else None
        frame = state.rgbd.get(self.camera.name)
        if frame is None or frame.time_s < self.asked_s:
            if state.time_s > self.asked_s + FRAME_TIMEOUT_S:
                raise CameraLost(f"camera {self.camera.name!r} sent no frame in {FRAME_TIMEOUT_S:g} s")
            return None
        self.port.streaming = False
        self.frame_s, self.frame = frame.time_s, frame
        X = self.X_world_camera = self.controller.locomotion.model.robot.get_T_world_frame(self.camera.link).copy()
        self._finding = Beside(lambda: detect_objects(frame, X), threaded=self.port.realtime)
        return self._finding.result() if self._finding.done else None


def stand_and_look(port: RobotPort, controller: ReachController, state: LowState, until_s: float,
                   observe: Observer | None = None) -> tuple[LowState, list[Detection]]:
    """Keep balancing until ``until_s`` (sensor clock) and a head-camera frame taken after now has
    come; the objects in it. Raises CameraLost if none comes."""
    glance = Glance(port, controller, state.time_s)
    while True:
        seen = glance.seen(state) if state.time_s >= until_s else None
        if seen is not None:
            return state, seen
        state = port.step(controller(state))
        if observe:
            observe(state)


def look_around(port: RobotPort, controller: ReachController, state: LowState, yaws_rad: tuple[float, ...],
                settle_s: float, observe: Observer | None = None) -> tuple[LowState, list[list[Detection]]]:
    """Turn the torso (the waist; the feet stay) to each of ``yaws_rad`` in turn (+: to the left),
    balancing, and look once it has been there ``settle_s``; the objects seen at each. The last yaw
    is where it stays."""
    views = []
    for yaw in yaws_rad:
        move = controller.turn_torso(yaw)
        state, seen = stand_and_look(port, controller, state, move.t0_s + move.duration_s + settle_s, observe)
        views.append(seen)
        if controller.locomotion.fallen:
            break
    return state, views
