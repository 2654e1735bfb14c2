"""The executive's pieces that need no physics: typed plans, the skill registry, the loop's timing
figures and work beside the loop."""

import threading
import time

import numpy as np
import pytest

from laoshan.brain.planner import Plan, validate_plan
from laoshan.brain.plans import LookAround, Pick, PlaceAt, step_of
from laoshan.brain.world_model import WorldModel
from laoshan.cerebellum.beside import Beside
from laoshan.executive import registry
from laoshan.executive.loop import LoopStats
from laoshan.scenarios.instruction import STATIONS


def test_typed_steps_read_as_their_json() -> None:
    step = step_of({"skill": "pick", "object": "red-1"})
    assert isinstance(step, Pick) and step.object == "red-1"
    assert step == {"skill": "pick", "object": "red-1"} and dict(step) == {"skill": "pick", "object": "red-1"}
    assert step["skill"] == "pick" and step.get("place") is None and len(step) == 2
    assert LookAround() == {"skill": "look_around"} and hash(Pick("a")) == hash(Pick("a"))
    plan = Plan((Pick("red-1"), PlaceAt("station 2")))
    assert plan.to_json() == ('{"steps": [{"skill": "pick", "object": "red-1"}, '
                              '{"skill": "place", "place": "station 2"}]}')


def test_validation_hands_out_typed_steps() -> None:
    world = WorldModel(places=STATIONS)
    plan = validate_plan({"steps": [{"skill": "look_around"}]}, world)
    assert isinstance(plan.steps[0], LookAround)


def test_every_plannable_skill_has_a_builder_and_registering_twice_fails() -> None:
    from laoshan.brain.plans import STEP_TYPES

    fieldless = tuple(t() for t in STEP_TYPES.values() if not t.__dataclass_fields__)
    job = registry.Job(ctx=None, plan=Plan(fieldless))  # type: ignore[arg-type]
    assert registry.skills_for(job) == []          # look, look around and say: the executive's own
    with pytest.raises(ValueError, match="registered already"):
        registry.register("pick")(lambda job, step: [])
    assert set(STEP_TYPES) <= set(registry._BUILDERS)  # noqa: SLF001


def test_loop_stats_count_ticks_past_the_period() -> None:
    stats = LoopStats.of([0.001, 0.0015, 0.0025, 0.004], 0.002, 1.0)
    assert stats.ticks == 4 and stats.deadline_misses == 2 and stats.tick_max_ms == pytest.approx(4.0)


def test_beside_runs_at_once_in_process_and_in_a_thread_on_a_real_time_port() -> None:
    main = threading.get_ident()
    at_once = Beside(lambda: threading.get_ident(), threaded=False)
    assert at_once.done and at_once.result() == main
    started = time.perf_counter()
    beside = Beside(lambda: (time.sleep(0.2), threading.get_ident())[1], threaded=True)
    assert not beside.done and time.perf_counter() - started < 0.1       # the caller goes on meanwhile
    while not beside.done:
        time.sleep(0.01)
    assert beside.result() != main
    failing = Beside(lambda: np.linalg.inv(np.zeros((2, 2))), threaded=False)
    with pytest.raises(np.linalg.LinAlgError):
        failing.result()
