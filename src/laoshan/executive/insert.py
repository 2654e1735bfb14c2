"""Peg in hole: (find the hole with the head camera,) after the grasp, look at the peg in the hand,
bring it over the hole, look again from close by and push it in, look whether it went in, and only
then let go."""

from dataclasses import dataclass
from functools import partial

import numpy as np

from laoshan.brain.perception import square_hole
from laoshan.cerebellum.beside import Beside
from laoshan.executive.look import CameraLost, Glance, Observer
from laoshan.executive.skill import SkillBase
from laoshan.limbs.grasp import PowerGrasp
from laoshan.limbs.insert import LetGo, PegInsert
from laoshan.limbs.reach import ReachController
from laoshan.port.base import RobotPort
from laoshan.port.messages import LowState


@dataclass(frozen=True)
class HoleJob:
    """What the robot knows of the insertion: the hole (a calibrated fixture, or found with the
    camera: :func:`look_for_hole`) and the peg."""

    hole_xy_m: tuple[float, float]     # the hole's axis (world)
    bottom_z_m: float                  # the hole's bottom (the block's base)
    depth_m: float
    peg_half_length_m: float
    peg_mass_kg: float
    peg_colour: str
    engaged_m: float                   # the hand lets go once the peg's tip is seen this far down the hole


def look_for_hole(port: RobotPort, controller: ReachController, state: LowState, until_s: float,
                  near_xy_m: tuple[float, float], top_z_m: float, half_width_m: float,
                  observe: Observer | None = None) -> tuple[LowState, np.ndarray | None]:
    """Stand until ``until_s`` and look with the head camera for a square hole (half width
    ``half_width_m``) in a block's top at ``top_z_m``, near ``near_xy_m`` (where the map has it):
    its axis (x, y) [m, world, on the robot's own pose estimate], None if not seen."""
    glance: Glance | None = None
    finding: Beside[np.ndarray | None] | None = None      # the hole looked for beside the loop (real time)
    while finding is None or not finding.done:
        if glance is None and state.time_s >= until_s:
            glance = Glance(port, controller, state.time_s)
        if finding is None and glance is not None and glance.seen(state) is not None:
            frame, X = glance.frame, glance.X_world_camera
            assert frame is not None and X is not None
            finding = Beside(partial(square_hole, frame, X, near_xy_m, top_z_m, half_width_m), threaded=port.realtime)
            continue
        state = port.step(controller(state))
        if observe:
            observe(state)
    return state, finding.result()


class InsertAfterGrasp(SkillBase):
    """Ticked once the grasp is done (or has failed: then it does nothing). ``problem`` says why it
    stopped short; ``seen_centre_m`` is the held peg's centre as last seen (world), at ``seen_s``."""

    def __init__(self, port: RobotPort, controller: ReachController, job: HoleJob, grasp: PowerGrasp) -> None:
        super().__init__()
        self.port, self.controller, self.job, self.grasp = port, controller, job, grasp
        self.glance: Glance | None = None
        self.sequence: PegInsert | LetGo | None = None   # over the hole, the push, letting go
        self.seen_centre_m: np.ndarray | None = None
        self.seen_s: float | None = None
        self.axis: np.ndarray | None = None         # the held peg's axis as last seen (world, unit)

    @property
    def problem(self) -> str | None:
        return self.gave_up

    @property
    def released(self) -> LetGo | None:
        return self.sequence if isinstance(self.sequence, LetGo) else None

    def tick(self, state: LowState) -> None:
        if self.grasp.failed or self.gave_up:
            return
        sequence = self.sequence
        if sequence is not None and (sequence.failed or not sequence.done):
            sequence.update(state.time_s)
            return
        if isinstance(sequence, LetGo):
            self.verified = True
            return
        seen = self._look(state)
        if seen is None:
            return
        j = self.job
        inserted = np.array([*j.hole_xy_m, j.bottom_z_m + j.peg_half_length_m])   # the peg all the way in
        if sequence is not None and sequence.final_phase == "pushed":
            down_m = j.depth_m - float(seen[2] - inserted[2])     # the tip below the mouth
            if down_m < j.engaged_m:
                self.gave_up = f"the peg stuck at the mouth ({down_m * 1000:+.0f} mm in, seen): still holding it"
                return
            self.sequence = LetGo(self.controller, grasp=self.grasp.config)
        else:
            self.sequence = PegInsert(self.controller, seen, inserted, j.depth_m, j.peg_mass_kg,
                                      grasp=self.grasp.config, until="over hole" if sequence is None else "pushed",
                                      peg_axis_world=self.axis)
        self.sequence.update(state.time_s)

    def _look(self, state: LowState) -> np.ndarray | None:
        """The held peg's centre (its axis point half way up) as the head camera sees it (world), and
        its axis in ``self.axis``; None until the frame comes."""
        if self.glance is None:
            self.glance = Glance(self.port, self.controller, state.time_s)
        try:
            seen = self.glance.seen(state)
        except CameraLost as exc:              # stop here, still holding the peg
            self.gave_up = str(exc)
            return None
        if seen is None:
            return None
        self.glance = None
        peg = next((d for d in seen if d.colour == self.job.peg_colour), None)
        if peg is None:
            self.gave_up = "the peg is out of sight of the head camera"
            return None
        top, self.axis = peg.top_face()               # its top face shows whole from above: centre and tilt
        self.seen_centre_m, self.seen_s = top - self.axis * self.job.peg_half_length_m, state.time_s
        return self.seen_centre_m
