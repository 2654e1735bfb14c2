"""A hand sequence on any robot port: stand, run it, then what comes next."""

from collections.abc import Callable

from laoshan.executive.look import Observer
from laoshan.executive.loop import LoopStats, drive
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence
from laoshan.port.base import RobotPort
from laoshan.port.messages import LowCmd, LowState


def run_sequence(port: RobotPort, state: LowState, controller: ReachController, sequence: HandSequence,
                 until_s: float, start_s: float, then: Callable[[LowState], None] | None = None,
                 stop: Callable[[], bool] | None = None, observe: Observer | None = None,
                 progress: Callable[[int], None] | None = None) -> tuple[LowState, LoopStats]:
    """Stand until ``start_s`` (the robot's clock), then run ``sequence`` on ``controller`` until
    the clock reads ``until_s`` or ``stop()`` turns true; once the sequence is done (or has
    failed), ``then(state)`` runs before every tick (what comes next: it has the hands from then
    on; with nothing next, the done sequence goes on watching what its hands hold)."""
    if not until_s > start_s:
        raise ValueError(f"seconds must be > {start_s}, got {until_s}")

    def act(k: int, state: LowState) -> LowCmd:
        if state.time_s >= start_s:
            if then is None or not (sequence.done or sequence.failed):
                sequence.update(state.time_s)
            if then is not None and (sequence.done or sequence.failed):
                then(state)
        return controller(state)

    ticks = int(round((until_s - state.time_s) / port.control_dt_s))
    return drive(port, state, ticks, act, stop=None if stop is None else lambda s: stop(), observe=observe,
                 progress=progress)
