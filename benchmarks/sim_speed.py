"""Simulation speed: raw physics steps/s and the full sensor loop's real-time factor.

Full loop = LowState from the sensor models -> stand controller -> LowCmd checked -> motor
drivers -> physics (2 steps of 1 ms) -> battery, i.e. everything a controller pays for one
500 Hz tick. Single-threaded, so it measures one core. Prints a table, writes JSON.

    python benchmarks/sim_speed.py [--seconds 10] [--out benchmarks/results/sim_speed.json]
"""

from __future__ import annotations

import argparse
import time

import laoshan  # noqa: F401  (first: it selects MuJoCo's offscreen GL backend before mujoco loads)
import mujoco
import numpy as np

from laoshan.bench.report import format_table, write_json
from laoshan.cerebellum.stand import StandController
from laoshan.robot.description import load_description
from laoshan.sim.body import SimBody
from laoshan.sim.world import Table, Thing, WorldSpec

CAMERA_WORLD = WorldSpec(tables=(Table("table", (0.8, 0.0), (0.6, 1.0)),),
                         things=(Thing("box", "box", (0.03, 0.03, 0.03), 0.2, (0.7, 0.0, 0.781)),))


def physics_steps_per_s(body: SimBody, steps: int) -> float:
    """mj_step alone, the drivers holding the stand command (their law runs inside the step)."""
    controller = StandController(body.robot)
    state = body.reset(0)
    for _ in range(250):
        state = body.step(controller(state))
    start = time.perf_counter()
    mujoco.mj_step(body.model, body.data, nstep=steps)
    return steps / (time.perf_counter() - start)


def full_loop(body: SimBody, seconds: float) -> dict[str, float]:
    controller = StandController(body.robot)
    state = body.reset(0)
    ticks = int(seconds / body.loop.control_dt_s)
    tick_s = np.empty(ticks)
    start = time.perf_counter()
    for k in range(ticks):
        t0 = time.perf_counter()
        state = body.step(controller(state))
        tick_s[k] = time.perf_counter() - t0
    wall = time.perf_counter() - start
    return {"real_time_factor": seconds / wall, "tick_median_ms": float(np.median(tick_s) * 1e3),
            "tick_p99_ms": float(np.percentile(tick_s, 99) * 1e3),
            "fell": bool(body.ground_truth().p_world_base_m[2] < 0.45)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="simulated seconds per run")
    parser.add_argument("--out", default="benchmarks/results/sim_speed.json", help="JSON output path")
    args = parser.parse_args()

    cases = [("g1-basic", False), ("g1-functional", False), ("g1-functional", True)]
    results, rows = [], []
    for name, cameras in cases:
        robot = load_description(name)
        body = SimBody(robot, world=CAMERA_WORLD if cameras else None, cameras=cameras)
        seconds = args.seconds / 5 if cameras else args.seconds
        physics = physics_steps_per_s(body, 5000)
        loop = full_loop(body, seconds)
        body.close()
        label = name + (" + RGB-D" if cameras else "")
        results.append({"robot": name, "cameras": cameras, "simulated_s": seconds,
                        "physics_steps_per_s": physics,
                        "physics_real_time_factor": physics * body.loop.physics_dt_s, **loop})
        rows.append([label, f"{physics:,.0f}", f"{physics * body.loop.physics_dt_s:.1f}x",
                     f"{loop['real_time_factor']:.1f}x", f"{loop['tick_median_ms']:.3f}",
                     f"{loop['tick_p99_ms']:.3f}", "yes" if loop["fell"] else "no"])
        print(f"  {label}: done", flush=True)
    print(format_table(["robot", "physics steps/s", "physics RTF", "full-loop RTF", "tick median ms",
                        "tick p99 ms", "fell"], rows))
    print(f"goal: full loop >= 20x real time on one core for g1-basic "
          f"(measured {results[0]['real_time_factor']:.1f}x)")
    print(f"wrote {write_json(args.out, results)}")


if __name__ == "__main__":
    main()
