"""Several robots: shared world, bus, traffic reservations, the fleet manager, the crossing run."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from laoshan.cerebellum.stand import StandController
from laoshan.fleet.bus import CLEARANCE, POSE, PROGRESS, ROUTE, Bus, Clearance, PoseReport, Progress, Route
from laoshan.fleet.manager import FleetManager, Task
from laoshan.fleet.traffic import FloorMap, NoRoute, apart, plan_paths, schedule
from laoshan.port.messages import LowCmd
from laoshan.scenarios.fleet import FleetScenario, run_fleet
from laoshan.sim.scoring import has_fallen
from laoshan.sim.shared import Placement, SharedWorld

ROOM = FloorMap.room((-3.0, -3.0), (3.0, 3.0))


def _execute(paths: list, seed: int, separation: int = 2) -> int:
    """Walk the schedule of ``paths`` with robots moving in a random order (any delays): asserts
    that robots keep apart at every move and returns the moves taken (a deadlock fails)."""
    sched = schedule(paths, separation)
    rng = random.Random(seed)
    reached = [0] * len(paths)
    moves = 0
    while any(r < len(w) - 1 for r, w in zip(reached, sched.waypoints, strict=True)):
        movable = [i for i in range(len(paths)) if sched.cleared(i, reached) > reached[i]]
        assert movable, f"deadlock at {reached}"
        i = rng.choice(movable)
        leaving = sched.waypoints[i][reached[i]]
        reached[i] += 1
        here = [w[r] for w, r in zip(sched.waypoints, reached, strict=True)]
        for j, cell in enumerate(here):
            if j != i:    # the robot moving is apart from the others both where it left and where it came
                assert apart(here[i], cell, separation) and apart(leaving, cell, separation), (i, j, reached)
        moves += 1
    return moves


@pytest.mark.parametrize("seed", range(5))
def test_reserved_paths_keep_robots_apart_whatever_the_delays(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    n = 4
    while True:    # random starts and goals, apart from one another
        cells = [tuple(int(v) for v in rng.integers(0, 12, 2)) for _ in range(2 * n)]
        starts, goals = cells[:n], cells[n:]
        if all(apart(a, b, 2) for group in (starts, goals) for k, a in enumerate(group) for b in group[k + 1:]):
            break
    paths = plan_paths(ROOM, starts, goals)
    assert [p[0] for p in paths] == starts and [p[-1] for p in paths] == goals
    for trial in range(20):
        _execute(paths, trial)


def test_crossing_robots_are_ordered_not_stopped_and_a_blocked_goal_has_no_route() -> None:
    f = ROOM
    starts, goals = [f.cell((-2.5, 0.2)), f.cell((0.2, -2.5))], [f.cell((2.5, 0.2)), f.cell((0.2, 2.5))]
    paths = plan_paths(f, starts, goals)
    # one of them waits or swerves: the two are never within 2 cells at the same step
    for t in range(max(map(len, paths))):
        a, b = (p[min(t, len(p) - 1)] for p in paths)
        assert apart(a, b, 2)
    assert _execute(paths, 0) >= 2 * 10
    walled = FloorMap(f.origin_xy_m, f.size, f.cell_m, frozenset({goals[0]}))
    with pytest.raises(NoRoute, match="blocked"):
        plan_paths(walled, starts, goals)


def test_the_bus_delivers_after_its_latency_to_every_subscriber() -> None:
    bus = Bus(latency_s=0.05)
    a, b = bus.subscribe(POSE), bus.subscribe(POSE, PROGRESS)
    bus.publish(POSE, PoseReport("r0", 1.0, (0.0, 0.0), 0.0, 1.0, False), 1.0)
    bus.publish(PROGRESS, Progress("r0", 1, 2), 1.0)
    assert a.take(1.04) == [] and b.take(1.04) == []
    assert len(a.take(1.05)) == 1 and len(b.take(1.05)) == 2 and b.take(2.0) == []
    lossy = Bus(latency_s=0.0, drop=0.5, seed=1000)
    box = lossy.subscribe(POSE)
    for k in range(400):
        lossy.publish(POSE, PoseReport("r0", k, (0.0, 0.0), 0.0, 1.0, False), float(k))
    assert 150 < len(box.take(1e6)) < 250


def _manager_with(poses: dict[str, tuple[float, float]]) -> tuple[FleetManager, Bus, list]:
    bus = Bus(latency_s=0.0)
    manager = FleetManager(ROOM, sorted(poses), bus)
    heard = bus.subscribe(ROUTE, CLEARANCE)
    for name, xy in poses.items():
        bus.publish(POSE, PoseReport(name, 0.0, xy, 0.0, 1.0, False), 0.0)
    return manager, bus, heard


def test_tasks_go_to_the_nearest_robot_and_a_fallen_robots_task_to_another() -> None:
    manager, bus, heard = _manager_with({"a": (-2.0, 0.0), "b": (2.0, 0.0)})
    manager.add(Task("east", (2.0, 2.0)), Task("west", (-2.0, -2.0)))
    manager.tick(0.0)
    assert manager.records["a"].task.name == "west" and manager.records["b"].task.name == "east"
    routes = {m.robot: m for m in heard.take(0.0) if isinstance(m, Route)}
    assert routes["b"].task == "east" and np.allclose(routes["b"].waypoints_xy_m[-1], ROOM.center(ROOM.cell((2, 2))))
    # b falls before it gets there: its task goes to a, once a has done its own
    bus.publish(POSE, PoseReport("b", 0.5, (2.0, 0.5), 0.0, 1.0, True), 0.5)
    bus.publish(POSE, PoseReport("a", 0.5, (-2.0, 0.0), 0.0, 1.0, False), 0.5)
    manager.tick(0.5)
    assert manager.records["b"].out == "fallen" and manager.open[0].name == "east"
    last = len(routes["a"].waypoints_xy_m) - 1
    bus.publish(PROGRESS, Progress("a", manager.plan, last, task_done="west"), 1.0)
    bus.publish(POSE, PoseReport("a", 1.0, (-2.0, -2.0), 0.0, 1.0, False), 1.0)
    manager.tick(1.0)
    manager.tick(1.1)
    assert manager.done == {"west": "a"} and manager.records["a"].task.name == "east"


def test_a_low_battery_robot_gives_its_task_back() -> None:
    manager, bus, _ = _manager_with({"a": (-2.0, 0.0), "b": (2.0, 0.0)})
    manager.add(Task("east", (2.0, 2.0)))
    manager.tick(0.0)
    assert manager.records["b"].task.name == "east"
    bus.publish(POSE, PoseReport("b", 0.2, (2.0, 0.5), 0.0, 0.1, False), 0.2)
    bus.publish(POSE, PoseReport("a", 0.2, (-2.0, 0.0), 0.0, 0.9, False), 0.2)
    manager.tick(0.2)
    assert manager.records["b"].out == "battery low" and manager.records["a"].task.name == "east"


def test_a_fetch_is_delivered_by_the_robot_that_picked_it_which_takes_nothing_else_meanwhile() -> None:
    manager, bus, heard = _manager_with({"a": (-2.0, 0.0), "b": (2.0, 0.0)})
    z = 0.76

    def fetch(k: int, xy: tuple[float, float], to: tuple[float, float]) -> Task:
        return Task(f"fetch{k}", xy, action="pick", at_xyz_m=(*xy, z),
                    then=Task(f"place{k}", to, action="place", at_xyz_m=(*to, z), facing_yaw_rad=math.pi))

    manager.add(fetch(0, (-2.0, 1.0), (2.0, -2.0)), fetch(1, (-2.0, 2.0), (2.0, 2.0)))
    manager.tick(0.0)
    assert manager.records["a"].task.name == "fetch0" and manager.records["b"].task.name == "fetch1"
    routes = {m.robot: m for m in heard.take(0.0) if isinstance(m, Route)}
    assert routes["a"].action == "pick" and routes["a"].at_xyz_m == (-2.0, 1.0, z)
    # a has picked its can: it delivers it, however far, and b (nearer the spot) does not
    bus.publish(PROGRESS, Progress("a", manager.plan, len(routes["a"].waypoints_xy_m) - 1, task_done="fetch0"), 1.0)
    for name, xy in (("a", (-2.0, 1.0)), ("b", (1.0, 0.0))):
        bus.publish(POSE, PoseReport(name, 1.0, xy, 0.0, 1.0, False), 1.0)
    manager.tick(1.0)
    a, b = manager.records["a"], manager.records["b"]
    assert a.task.name == "place0" and a.task.robot == "a" and a.holding == "fetch0" and "fetch0" not in manager.done
    # b gives its pick up (a can it could not find): it is not given out again; b is free for more
    bus.publish(PROGRESS, Progress("b", manager.plan, 0, task_done="fetch1", task_failed="no can seen"), 1.2)
    manager.tick(1.2)
    assert manager.failed == {"fetch1": "no can seen"} and b.task is None and not manager.open
    # a falls holding its can: the delivery is lost with it, not given to b
    bus.publish(POSE, PoseReport("a", 1.5, (0.0, 0.0), 0.0, 1.0, True), 1.5)
    bus.publish(POSE, PoseReport("b", 1.5, (1.0, 0.0), 0.0, 1.0, False), 1.5)
    manager.tick(1.5)
    assert a.out == "fallen" and "place0" in manager.failed and b.task is None and manager.finished
    with pytest.raises(ValueError, match="at_xyz_m"):
        Task("x", (0.0, 0.0), action="pick")


def test_robots_of_one_world_have_their_own_ports_and_touch_each_other() -> None:
    """Robot 0 gets no command (its drivers damp: it crumples), robot 1 stands on its own
    controller; then robot 1 is put down inside robot 0: they touch."""
    from laoshan.robot.description import load_description

    g1 = load_description("g1-basic")
    shared = SharedWorld([Placement(g1, (0.0, 0.0, 0.0)), Placement(g1, (1.5, 0.0, math.pi))], seed=1000)
    states = shared.reset(1000)
    stand = StandController(g1)
    for _ in range(int(2.0 / shared.control_dt_s)):
        states = shared.step([None, stand(states[1])])
    first, second = shared.ground_truth()
    assert has_fallen(first) and not has_fallen(second)
    assert states[0].damping_active and not states[1].damping_active
    assert abs(second.yaw_rad) == pytest.approx(math.pi, abs=0.05)
    assert shared.ground_truth_robot_contacts() == set()
    with pytest.raises(RuntimeError, match="shared world"):
        shared.robots[0].step(LowCmd.zeros(shared.robots[0].n_motors))
    overlap = SharedWorld([Placement(g1, (0.0, 0.0, 0.0)), Placement(g1, (0.1, 0.05, 0.0))], seed=1000)
    overlap.step([None, None])
    assert overlap.ground_truth_robot_contacts() == {(0, 1)}


def test_two_robots_whose_straight_paths_cross_do_not_collide() -> None:
    report = run_fleet(FleetScenario(kind="cross", robots=2, seed=1002, seconds=90.0))
    assert report.success, report.events
    assert report.tasks_done == 2 and report.collisions == 0 and not report.deadlock
    assert report.closest_m > 0.6
    assert all(not r.fell and r.walked_m > 3.0 for r in report.robots)


def test_a_part_is_handed_from_one_robot_to_another() -> None:
    """Robot A holds a part out over the table; robot B sees it with its own camera, takes it from
    A's hand (held by friction) and sets it down upright on its spot."""
    from laoshan.scenarios.line import LineScenario, run_line

    report = run_line(LineScenario(parts=1, seed=1003))
    assert report.handed_over == 1, report.failures
    assert report.placed == 1 and report.place_errors_m[0] <= 0.03
    assert not report.fell and report.collisions == 0 and report.success


def test_a_robot_fetches_a_can_across_a_room() -> None:
    """The robot walks to the can the manager gave it, finds it with its own camera, picks it, and
    (its second leg, given to it alone) carries it across the aisle and sets it upright on its spot."""
    report = run_fleet(FleetScenario(kind="fetch", robots=1, tasks=1, seed=1000, seconds=90.0))
    assert report.success, (report.events, report.given_up)
    assert report.delivered == 1 and report.place_errors_m[0] <= 0.05
    assert report.tasks_done == 1 and not report.deadlock and not report.robots[0].fell
    assert report.robots[0].walked_m > 2.0


def test_two_robots_carry_one_bar_onto_a_rack() -> None:
    """Two G1s squeeze the ends of a 4 kg bar, lift it, walk sideways with it (the follower by what
    its arms feel) and set it down level on the second rack: held by friction, nobody falls."""
    from laoshan.scenarios.bar_carry import BarCarryScenario, run_bar_carry

    report = run_bar_carry(BarCarryScenario(distance_m=1.5, seed=1002))
    assert report.success, report.failures
    assert report.on_rack and not report.dropped and report.carried_m > 1.2
    assert not report.fell and report.collisions == 0
    assert max(report.peak_give_cm) < 15.0            # the arms gave way within their window


def test_complying_hands_give_way_together_and_keep_their_squeeze() -> None:
    """Hands pushed off their targets by the same amount move their targets with them (along the
    complying axes, up to the window); the squeeze between them stays; other axes hold."""
    from laoshan.limbs.reach import HandCompliance

    compliance = HandCompliance(("left", "right"), "xy", 0.1)
    targets = {}
    for side, y in (("left", 0.1), ("right", -0.1)):
        T = np.eye(4)
        T[:3, 3] = [0.4, y, 0.9]
        targets[side] = (T, np.zeros(3), None)
    measured = {"left": np.array([0.45, 0.13, 0.92]), "right": np.array([0.45, -0.11, 0.92])}   # squeezed apart 4 cm

    def pose(side: str) -> np.ndarray:
        T = np.eye(4)
        T[:3, 3] = measured[side]
        return T

    compliance.give_way(targets, pose, np.eye(3))
    assert np.allclose(compliance.give_m, [0.05, 0.01, 0.0])      # the common part, on x and y only
    assert np.allclose(compliance.offset_m, [0.05, 0.01, 0.02])
    assert np.allclose(targets["left"][0][:3, 3], [0.45, 0.11, 0.9])
    assert np.allclose(targets["right"][0][:3, 3], [0.45, -0.09, 0.9])   # still 20 cm apart: the squeeze stays
    far = {side: (np.eye(4), np.zeros(3), None) for side in ("left", "right")}
    measured = {"left": np.array([0.3, 0.0, 0.0]), "right": np.array([0.3, 0.0, 0.0])}
    compliance.give_way(far, pose, np.eye(3))
    assert np.allclose(far["left"][0][:3, 3], [0.1, 0.0, 0.0])         # beyond the window the arms spring back
    with pytest.raises(ValueError):
        HandCompliance(("left",), "xw", 0.1)


def test_the_fleet_talks_over_dds_too() -> None:
    """Every kind of fleet message crosses DDS intact, and the manager gives out a task over it."""
    import os
    import time

    from laoshan.fleet.bus import HANDOVER, Signal
    from laoshan.fleet.dds_bus import DdsBus
    from laoshan.port.dds import DdsConfig

    domain = int(os.environ.get("LAOSHAN_TEST_DDS_DOMAIN", "17")) + 2    # away from the DDS tests' domains
    bus = DdsBus(DdsConfig(domain=domain))
    heard = bus.subscribe(POSE, ROUTE, CLEARANCE, PROGRESS, HANDOVER)
    sent = [PoseReport("a", 1.5, (0.25, -1.0), 0.5, 0.8, False),
            Route("a", 3, "east", ((0.25, 0.25), (0.75, 0.25)), 2.0), Clearance("a", 3, 1),
            Progress("a", 3, 1, "east"), Signal("b", "taken", 0)]
    manager = FleetManager(ROOM, ["a"], bus)
    time.sleep(0.3)                        # readers and writers find each other
    for topic, message in zip((POSE, ROUTE, CLEARANCE, PROGRESS, HANDOVER), sent, strict=True):
        bus.publish(topic, message, 0.0)
    got: list = []
    deadline = time.monotonic() + 3.0
    while len(got) < len(sent) and time.monotonic() < deadline:
        got += heard.take(0.0)
        time.sleep(0.01)
    assert sorted(map(repr, got)) == sorted(map(repr, sent))
    manager.add(Task("west", (-2.0, 0.0)))
    for k in range(100):                   # the pose report above (robot time 1.5 s) reached the manager too
        manager.tick(1.6 + 0.01 * k)
        if manager.records["a"].task is not None:
            break
        time.sleep(0.01)
    assert manager.records["a"].task is not None and manager.records["a"].task.name == "west"
