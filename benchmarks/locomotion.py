"""Locomotion: stable speed, speed tracking, push recovery, terrain, cost of transport, timing.

All runs are sensor-only (estimated state, LowCmd out); ground truth only scores them.
Prints a table and writes JSON.

    python benchmarks/locomotion.py [--quick] [--out benchmarks/results/locomotion.json] [--only timing]
"""

from __future__ import annotations

import math
import time

import laoshan  # noqa: F401  (first: it selects MuJoCo's offscreen GL backend before mujoco loads)
import numpy as np

from laoshan.bench.report import benchmark_args, format_table, update_json, write_json
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.robot.description import load_description
from laoshan.sim.scoring import has_fallen
from laoshan.scenarios.walk import WalkScenario, run_walk
from laoshan.sim.body import SimBody

ROBOT = "g1-basic"
DIRECTIONS = {"forward": 0.0, "left": 90.0, "backward": 180.0, "right": 270.0}


PUSH_SEEDS = (0, 1, 2)


def survives_push(robot, impulse_Ns: float, direction_deg: float, walking: bool, seed: int) -> bool:
    """Whether the robot is still up and without a safety stop 3 s after a 0.1 s push."""
    body, ctl = SimBody(robot), LocomotionController(robot)
    state = body.reset(seed)
    dt = body.loop.control_dt_s
    if walking:
        ctl.set_velocity(0.3)
    a = math.radians(direction_deg)
    for k in range(int(6.0 / dt)):
        if k == int(3.0 / dt):
            body.push([impulse_Ns * math.cos(a), impulse_Ns * math.sin(a), 0.0], 0.1)
        state = body.step(ctl(state))
        if has_fallen(body.ground_truth()) or not ctl.status.ok:
            return False
    return True


def max_push(robot, direction_deg: float, walking: bool, levels: list[float]) -> float:
    """Largest impulse in ``levels`` (increasing) survived from every seed of ``PUSH_SEEDS``;
    stops at the first level with a failure."""
    best = 0.0
    for level in levels:
        if not all(survives_push(robot, level, direction_deg, walking, seed) for seed in PUSH_SEEDS):
            break
        best = level
    return best


def control_timing(robot, seconds: float) -> dict[str, float]:
    body, ctl = SimBody(robot), LocomotionController(robot)
    state = body.reset(0)
    ctl.set_velocity(0.3)
    ticks = int(seconds / body.loop.control_dt_s)
    tick_s = np.empty(ticks)
    start = time.perf_counter()
    for k in range(ticks):
        t0 = time.perf_counter()
        cmd = ctl(state)
        tick_s[k] = time.perf_counter() - t0
        state = body.step(cmd)
    wall = time.perf_counter() - start
    return {"control_tick_median_ms": float(np.median(tick_s) * 1e3),
            "control_tick_p99_ms": float(np.percentile(tick_s, 99) * 1e3),
            "full_stack_real_time_factor": seconds / wall}


def main() -> None:
    args = benchmark_args(__doc__, "locomotion", "fewer speeds and push levels", sections=("timing",))
    robot = load_description(ROBOT)
    if args.only:                  # timing alone, on an otherwise idle machine
        timing = control_timing(robot, 4.0)
        print(format_table(["figure", "measured"], [[k, v] for k, v in timing.items()]))
        print(f"updated {update_json(args.out, timing)}")
        return
    results: dict = {"robot": ROBOT, "push_seeds": list(PUSH_SEEDS)}

    speeds = [0.2, 0.3, 0.4, 0.5] if args.quick else [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0]
    walks = []
    for v in speeds:
        r = run_walk(WalkScenario(vx_m_s=v, seconds=10.0), robot=robot)
        applied = r.applied[0] if r.applied else v
        walks.append({"command_m_s": v, "applied_m_s": applied, "limited": r.limited, "fell": r.fell,
                      "distance_m": r.distance_m, "mean_speed_m_s": r.mean_speed_m_s,
                      "speed_rmse_m_s": r.speed_rmse_m_s, "cost_of_transport": r.cost_of_transport,
                      "estimator_drift_fraction": r.estimator_drift_fraction})
        print(f"  walk {v} m/s{f' ({r.limited})' if r.limited else ''}: fell={r.fell} distance={r.distance_m:.2f} m",
              flush=True)
    results["walks"] = walks
    stable = [w["applied_m_s"] for w in walks if not w["fell"]]      # what it walked at, not what was asked
    results["max_stable_forward_m_s"] = max(stable) if stable else 0.0

    levels = [5.0, 10.0, 12.5, 15.0, 17.5, 20.0, 25.0] if not args.quick else [5.0, 10.0, 15.0, 20.0]
    for mode in ("standing", "walking"):
        results[f"max_push_{mode}_Ns"] = {name: max_push(robot, a, mode == "walking", levels)
                                         for name, a in DIRECTIONS.items()}
        print(f"  pushes {mode}: {results[f'max_push_{mode}_Ns']}", flush=True)

    terrain = {}
    for kind in ("slope", "steps", "rough"):
        r = run_walk(WalkScenario(vx_m_s=0.3, seconds=14.0, terrain=kind), robot=robot)
        terrain[kind] = {"success": (not r.fell) and r.distance_m > 3.0, "distance_m": r.distance_m, "fell": r.fell}
    results["terrain"] = terrain
    results.update(control_timing(robot, 4.0))

    rows = [[f"walk {w['command_m_s']:.1f} m/s" + (f" (limited to {w['applied_m_s']:.2f})" if w["limited"] else ""),
             "fell" if w["fell"] else "ok", f"{w['distance_m']:.2f} m",
             f"{w['mean_speed_m_s']:.2f} m/s", f"{w['speed_rmse_m_s']:.3f}", f"{w['cost_of_transport']:.2f}",
             f"{w['estimator_drift_fraction']:.1%}"] for w in walks]
    print(format_table(["run", "result", "distance", "mean speed", "speed RMSE m/s", "CoT", "estimator drift"], rows))
    print()
    summary = [
        ["max stable forward speed [m/s]", results["max_stable_forward_m_s"], ">= 1.0"],
        [f"max push standing [N·s] (fwd/left/back/right; {len(PUSH_SEEDS)} seeds)",
         "/".join(f"{v:g}" for v in results["max_push_standing_Ns"].values()), ">= 20"],
        [f"max push walking [N·s] (fwd/left/back/right; {len(PUSH_SEEDS)} seeds)",
         "/".join(f"{v:g}" for v in results["max_push_walking_Ns"].values()), "-"],
        *[[f"terrain {k}", "ok" if v["success"] else f"fell at {v['distance_m']:.1f} m", ""]
          for k, v in terrain.items()],
        ["control tick median / p99 [ms]",
         f"{results['control_tick_median_ms']:.3f} / {results['control_tick_p99_ms']:.3f}", "<= 0.5 median"],
        ["full stack real-time factor", f"{results['full_stack_real_time_factor']:.1f}x", ">= 5x"],
    ]
    print(format_table(["figure", "measured", "goal"], summary))
    print(f"wrote {write_json(args.out, results)}")


if __name__ == "__main__":
    main()
