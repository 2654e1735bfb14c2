"""The robot port over DDS on loopback: state rate, command latency and the control loop's deadlines
while arm paths are planned.

Each run serves a robot with ``laoshan sim --dds`` (its own process, real time) and drives it from
this process through :class:`laoshan.port.dds.DdsPort`:

- ``link``: 10 s standing (GuardedStand): states received per second, their inter-arrival times,
  command-to-state round trip (from writing a ``LowCmd_`` to decoding the next ``LowState_``,
  which includes waiting up to one 2 ms tick for the simulator to take it), CRC errors, robot
  ticks the client never saw, and the loop's deadline misses (a command computed in more than 2 ms).
- ``planning``: the functional G1 standing while its right arm is sent around the shelf's boxes
  (the shelf scenario's planning problem) six times, each path planned by the project's RRT-Connect:
  ``beside`` (a worker thread; the loop keeps ticking), ``inline`` (the loop waits for the planner,
  as the in-process simulator lets it) and ``none`` (the same standing, no planning).
- ``sdk``: Unitree's own Python SDK client (``examples/unitree_sdk_client.py``) against the served
  robot: state rate and CRC failures as it sees them.

Prints a table, writes JSON (``benchmarks/results/dds.json``). No figure is asserted.

    python benchmarks/dds.py [--quick] [--only link planning sdk]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from laoshan.bench.report import benchmark_args, format_table, update_json, write_json
from laoshan.cerebellum.stand import GuardedStand
from laoshan.executive.loop import LoopStats
from laoshan.limbs.reach import ReachController
from laoshan.port.dds import DdsConfig, DdsPort
from laoshan.robot.description import load_description
from laoshan.scenarios.shelf import ShelfScenario

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = 23
SECTIONS = ("link", "planning", "sdk")


def _serve(robot: str, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "laoshan.cli", "sim", "--dds", "--robot", robot, "--seconds",
                             str(seconds), "--domain", str(DOMAIN)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=ROOT)


def _server_row(server: subprocess.Popen, key: str) -> str:
    out, _ = server.communicate(timeout=120)
    return next((line[len(key):].strip() for line in out.splitlines() if line.startswith(key)), "?")


def link(seconds: float) -> dict[str, object]:
    robot = load_description("g1-functional")
    server = _serve(robot.name, seconds + 6.0)
    port = DdsPort(robot, DdsConfig(domain=DOMAIN))
    state = port.first_state()
    controller = GuardedStand(robot)
    arrivals, round_trip, tick_s = [], [], []
    end = state.time_s + seconds
    while state.time_s < end:
        t0 = time.perf_counter()
        cmd = controller(state)
        t1 = time.perf_counter()
        state = port.step(cmd)
        t2 = time.perf_counter()
        tick_s.append(t1 - t0)
        round_trip.append(t2 - t1)
        arrivals.append(t2)
    late = _server_row(server, "late ticks / tick p99 [ms]")
    gaps = np.diff(arrivals) * 1e3
    rt = np.array(round_trip) * 1e3
    loop = LoopStats.of(tick_s, port.control_dt_s, arrivals[-1] - arrivals[0])
    return {"robot": robot.name, "seconds": seconds,
            "state_rate_Hz": (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]),
            "interarrival_p50_ms": float(np.percentile(gaps, 50)),
            "interarrival_p99_ms": float(np.percentile(gaps, 99)),
            "interarrival_max_ms": float(gaps.max()),
            "cmd_to_state_p50_ms": float(np.percentile(rt, 50)), "cmd_to_state_p99_ms": float(np.percentile(rt, 99)),
            "crc_errors": port.stats.crc_errors, "missed_ticks": port.stats.missed_ticks, "states": port.stats.states,
            "deadline_misses": loop.deadline_misses, "tick_p99_ms": loop.tick_p99_ms,
            "server_late_ticks_tick_p99": late, "fell": controller.safety.fall_time_s is not None}


def planning(mode: str, plans: int) -> dict[str, object]:
    """Stand; every 2 s send the right hand to the shelf goal or back to where it started."""
    robot = load_description("g1-functional")
    shelf = ShelfScenario()
    period_s = 2.0
    seconds = 1.0 + plans * period_s
    server = _serve(robot.name, seconds + 8.0)
    port = DdsPort(robot, DdsConfig(domain=DOMAIN))
    state = port.first_state()
    controller = ReachController(robot)
    controller.set_obstacles(shelf.obstacles())
    controller.plan_beside = mode == "beside"
    goal = np.eye(4)
    goal[:3, 3] = shelf.goal_m
    tick_s, planning_ticks, sent = [], [], 0
    start_s, home = state.time_s, None
    missed_before = port.stats.missed_ticks
    while state.time_s < start_s + seconds:
        t0 = time.perf_counter()
        if home is None and controller.locomotion.state is not None:
            home = controller.hand_pose("right")
        if mode != "none" and home is not None and state.time_s >= start_s + 1.0 + sent * period_s and sent < plans:
            controller.plan_reach("right", goal if sent % 2 == 0 else home)
            sent += 1
        pending = bool(controller._pending)     # noqa: SLF001 - the benchmark watches the planner at work
        cmd = controller(state)
        tick_s.append(time.perf_counter() - t0)
        planning_ticks.append(pending)
        state = port.step(cmd)
    late = _server_row(server, "late ticks / tick p99 [ms]")
    t = np.array(tick_s)
    busy = np.array(planning_ticks, dtype=bool)
    loop = LoopStats.of(tick_s, port.control_dt_s, 0.0)
    paths = controller.plans
    return {"mode": mode, "plans": len(paths), "plan_failures": len(controller.plan_errors),
            "plan_ms_median": float(np.median([p.plan_s for p in paths]) * 1e3) if paths else None,
            "plan_ms_max": float(max(p.plan_s for p in paths) * 1e3) if paths else None,
            "ticks": len(t), "ticks_while_planning": int(busy.sum()),
            "deadline_misses": loop.deadline_misses, "tick_p99_ms": loop.tick_p99_ms, "tick_max_ms": loop.tick_max_ms,
            "robot_ticks_missed": port.stats.missed_ticks - missed_before, "server_late_ticks_tick_p99": late,
            "fell": controller.locomotion.fallen}


def sdk(seconds: float) -> dict[str, object]:
    server = _serve("g1-basic", seconds + 6.0)
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "unitree_sdk_client.py"), "--domain", str(DOMAIN),
                          "--seconds", str(seconds)], capture_output=True, text=True, timeout=120)
    server.communicate(timeout=120)
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    return {"client": "unitree_sdk2py", **seen}


def main() -> None:
    args = benchmark_args(__doc__, "dds", "shorter runs (3 s links, 2 plans)", SECTIONS)
    only = set(args.only or SECTIONS)
    results: dict[str, object] = {}
    if "link" in only:
        results["link"] = link(3.0 if args.quick else 10.0)
        r = results["link"]
        print(format_table(["link (g1-functional standing)", "value"], [[k, v] for k, v in r.items()]))
    if "planning" in only:
        results["planning"] = [planning(mode, 2 if args.quick else 6) for mode in ("none", "beside", "inline")]
        rows = [[r["mode"], r["plans"], r["plan_ms_median"] or "-", r["ticks_while_planning"], r["deadline_misses"],
                 f'{r["tick_p99_ms"]:.2f} / {r["tick_max_ms"]:.1f}', r["robot_ticks_missed"], r["fell"]]
                for r in results["planning"]]
        print(format_table(["arm planning", "paths", "plan median [ms]", "ticks planning", "deadline misses",
                            "tick p99 / max [ms]", "robot ticks missed", "fell"], rows))
    if "sdk" in only:
        results["sdk"] = sdk(3.0)
        print(format_table(["Unitree SDK client", "value"], [[k, v] for k, v in results["sdk"].items()]))
    path = update_json(args.out, results) if args.only else write_json(args.out, results)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
