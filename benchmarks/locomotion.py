"""Locomotion: stable speed per direction, shoves, terrain, a second humanoid, CoT, estimator drift, timing.

Every figure is over the report seeds (0-19 by default; the controllers were tuned on seeds 1000
and up, never on these). All runs are sensor-only (estimated state, LowCmd out); ground truth
only scores them. Runs go to worker processes (``--workers``). Prints tables and writes JSON.

    python benchmarks/locomotion.py [--quick] [--seeds 20] [--workers 2] [--out ...] [--only timing terrain estimator]
"""

from __future__ import annotations

import argparse
import math
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import laoshan  # noqa: F401  (first: it selects MuJoCo's offscreen GL backend before mujoco loads)
import numpy as np

from laoshan.bench.report import format_table, machine_info, update_json, write_json
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.components.catalog import load_catalog
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.walk import WalkScenario, run_walk
from laoshan.sim.body import SimBody
from laoshan.sim.scoring import has_fallen

ROBOT = "g1-basic"
SEEING_ROBOT = "g1-functional"            # the terrain runs: its head camera maps the ground
TALOS = Path(__file__).resolve().parents[1] / "examples" / "talos"
DIRECTIONS = {"forward": 0.0, "left": 90.0, "backward": 180.0, "right": 270.0}

# (name, robot, command (vx, vy, yaw rate), terrain, step height, seconds, distance that counts as crossed [m])
WALKS = {
    "forward": [(v, (v, 0.0, 0.0)) for v in (0.3, 0.5, 0.6, 1.0)],
    "sideways": [(v, (0.0, v, 0.0)) for v in (0.2, 0.4)],
    "turning": [(w, (0.0, 0.0, w)) for w in (0.5, 1.0)],
}
TERRAIN = [("slope 10°", "slope", 0.0, 0.3, 14.0, 3.0), ("rough 3 cm", "rough", 0.0, 0.3, 14.0, 3.0),
           ("cross-slope 10°", "cross-slope", 0.0, 0.3, 24.0, 6.0),
           ("steps 10 cm", "steps", 0.10, 0.2, 16.0, 2.6), ("steps 15 cm", "steps", 0.15, 0.2, 16.0, 2.6),
           ("stairs 4 x 15 cm", "stairs", 0.15, 0.2, 25.0, 4.3)]
PUSHES = {"standing": (20.0, 30.0), "walking": (10.0, 20.0)}
# the estimator's drift over a 20 s walk of each gait: (name, command)
ESTIMATOR_GAITS = [("forward 0.3 m/s", (0.3, 0.0, 0.0)), ("forward 0.5 m/s", (0.5, 0.0, 0.0)),
                   ("sideways 0.2 m/s", (0.0, 0.2, 0.0)), ("backward 0.2 m/s", (-0.2, 0.0, 0.0)),
                   ("arc 0.2 m/s, 0.3 rad/s", (0.2, 0.0, 0.3)), ("turn in place 0.5 rad/s", (0.0, 0.0, 0.5))]
ESTIMATOR_S = 20.0


def _robot(name: str) -> RobotDescription:
    if name == "talos":
        return load_description(TALOS / "talos.toml", load_catalog(TALOS / "catalog.toml"))
    return load_description(name)


def walk_task(robot: str, command: tuple[float, float, float], seed: int, seconds: float,
              terrain: str = "flat", step_height_m: float = 0.1) -> dict:
    r = run_walk(WalkScenario(robot=robot, vx_m_s=command[0], vy_m_s=command[1], yaw_rate_rad_s=command[2],
                              seconds=seconds, terrain=terrain, step_height_m=step_height_m, seed=seed),
                 robot=_robot(robot))
    applied = r.applied or r.command
    return {"seed": seed, "ok": not r.fell and not r.safety_trips, "fell": r.fell,
            "trip": r.safety_trips[0] if r.safety_trips else "", "applied": list(applied), "limited": r.limited,
            "displacement_m": r.displacement_m, "mean_speed_m_s": r.mean_speed_m_s, "rmse_m_s": r.speed_rmse_m_s,
            "yaw_rad": r.yaw_change_rad, "cot": r.cost_of_transport, "drift": r.estimator_drift_fraction,
            "drift_m": r.estimator_drift_m, "height_drift_m": r.estimator_height_drift_m}


def push_task(impulse_Ns: float, direction_deg: float, walking: bool, seed: int) -> bool:
    """Whether the robot is still up and without a safety stop 3 s after a 0.1 s shove."""
    robot = _robot(ROBOT)
    body, ctl = SimBody(robot, seed=seed), LocomotionController(robot)
    state = body.reset(seed)
    dt = body.loop.control_dt_s
    if walking:
        ctl.set_velocity(0.3)
    a = math.radians(direction_deg)
    for k in range(int(6.0 / dt)):
        if k == int(3.0 / dt):
            heading = body.ground_truth().yaw_rad + a     # relative to where the robot faces
            body.push([impulse_Ns * math.cos(heading), impulse_Ns * math.sin(heading), 0.0], 0.1)
        state = body.step(ctl(state))
        if has_fallen(body.ground_truth()) or not ctl.status.ok:
            return False
    return True


def control_timing(seconds: float) -> dict[str, float]:
    robot = _robot(ROBOT)
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


def _share(runs: list[dict]) -> float:
    return sum(r["ok"] for r in runs) / len(runs)


def _terrain_rows(terrain: dict[str, list[dict]]) -> list[list[str]]:
    """Per terrain: the share of seeds that crossed it without a fall or a stop, the median
    distance, the first stop."""
    return [[name, f"{_share([dict(r, ok=r['ok'] and r['displacement_m'] > cross) for r in terrain[name]]):.0%}",
             f"{np.median([r['displacement_m'] for r in terrain[name]]):.2f}",
             next((r["trip"] for r in terrain[name] if r["trip"]), "")[:60]]
            for name, *_, cross in TERRAIN]


def _terrain_runs(pool: ProcessPoolExecutor, seeds: list[int]) -> dict[str, list[Future]]:
    """Per terrain, a walk of the seeing robot per seed, submitted."""
    return {name: [pool.submit(walk_task, SEEING_ROBOT, (v, 0.0, 0.0), s, secs, kind, h) for s in seeds]
            for name, kind, h, v, secs, _ in TERRAIN}


def _estimator_runs(pool: ProcessPoolExecutor, seeds: list[int]) -> dict[str, list[Future]]:
    """Per gait, a walk of ``ESTIMATOR_S`` per seed, submitted."""
    return {name: [pool.submit(walk_task, ROBOT, cmd, s, ESTIMATOR_S) for s in seeds] for name, cmd in ESTIMATOR_GAITS}


def _results(futures: dict) -> dict:
    """Each submitted run's result, under the same keys."""
    return {k: [f.result() for f in fs] for k, fs in futures.items()}


def _estimator_rows(runs: dict[str, list[dict]]) -> list[list[str]]:
    """Per gait: the estimated base's height and ground-plane position off the truth at the end of the
    walk (median and largest of the seeds)."""
    rows = []
    for name, rs in runs.items():
        h = np.abs([r["height_drift_m"] for r in rs]) * 100
        xy = np.array([r["drift_m"] for r in rs]) * 100
        rows.append([name, f"{sum(not r['fell'] for r in rs)}/{len(rs)}", f"{np.median(h):.1f} / {h.max():.1f}",
                     f"{np.median(xy):.1f} / {xy.max():.1f}"])
    return rows


ESTIMATOR_HEADER = ["gait (g1-basic, 20 s)", "no fall", "height off [cm] median / max",
                    "position off [cm] median / max"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 seeds, fewer speeds")
    parser.add_argument("--seeds", type=int, default=20, help="report seeds 0..N-1 (never used while tuning)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--out", default="benchmarks/results/locomotion.json", help="JSON output path")
    parser.add_argument("--only", nargs="+", choices=("timing", "terrain", "estimator"),
                        help="run only these and update them in the JSON file (timing: on an idle machine)")
    args = parser.parse_args()
    seeds = list(range(5 if args.quick else args.seeds))
    if args.only:
        fresh: dict = {}
        if "terrain" in args.only:
            with ProcessPoolExecutor(max_workers=args.workers) as pool:
                fresh["terrain"] = _results(_terrain_runs(pool, seeds))
            print(format_table(["terrain (g1-functional, camera)", "crossed", "median distance m", "first stop"],
                               _terrain_rows(fresh["terrain"])))
        if "estimator" in args.only:
            with ProcessPoolExecutor(max_workers=args.workers) as pool:
                fresh["estimator"] = _results(_estimator_runs(pool, seeds))
            print(format_table(ESTIMATOR_HEADER, _estimator_rows(fresh["estimator"])))
        if "timing" in args.only:
            fresh.update(control_timing(4.0))
            print(format_table(["figure", "measured"],
                               [[k, v] for k, v in fresh.items() if k not in ("terrain", "estimator")]))
        print(f"updated {update_json(args.out, fresh)}")
        return
    walk_s = 8.0
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        walks = {(d, v): [pool.submit(walk_task, ROBOT, cmd, s, walk_s) for s in seeds]
                 for d, items in WALKS.items() for v, cmd in (items[:3] if args.quick else items)}
        terrain = _terrain_runs(pool, seeds)
        pushes = {(mode, level, d): [pool.submit(push_task, level, a, mode == "walking", s) for s in seeds]
                  for mode, levels in PUSHES.items() for level in levels for d, a in DIRECTIONS.items()}
        talos = {name: [pool.submit(walk_task, "talos", cmd, s, walk_s) for s in seeds]
                 for name, cmd in (("walk 0.3 m/s", (0.3, 0.0, 0.0)), ("turn 0.3 rad/s", (0.0, 0.0, 0.3)))}
        estimator = _estimator_runs(pool, seeds)
        walks = _results(walks)
        print(f"  walks done ({time.perf_counter() - started:.0f} s)", flush=True)
        terrain = _results(terrain)
        print(f"  terrain done ({time.perf_counter() - started:.0f} s)", flush=True)
        pushes = _results(pushes)
        talos = _results(talos)
        estimator = _results(estimator)
    print(f"  all runs done ({time.perf_counter() - started:.0f} s)", flush=True)

    speed_rows, best = [], {}
    for (direction, v), runs in walks.items():
        applied = max(abs(x) for x in runs[0]["applied"])
        share = _share(runs)
        if share == 1.0:
            best[direction] = max(best.get(direction, 0.0), applied)
        ok = [r for r in runs if r["ok"]]
        speed_rows.append([direction, f"{v:g}" + (f" (limited to {applied:.2f})" if runs[0]["limited"] else ""),
                           f"{share:.0%}", f"{np.median([r['mean_speed_m_s'] for r in ok]):.2f}" if ok else "-",
                           f"{np.median([r['cot'] for r in ok]):.2f}" if ok and direction != "turning" else "-",
                           f"{np.median([r['drift'] for r in ok]):.1%}" if ok and direction != "turning" else "-",
                           next((r["trip"] for r in runs if r["trip"]), "")[:60]])
    terrain_rows = _terrain_rows(terrain)
    push_rows = [[mode, f"{level:g}"] + [f"{sum(pushes[(mode, level, d)]) / len(seeds):.0%}" for d in DIRECTIONS]
                 for mode, levels in PUSHES.items() for level in levels]
    talos_rows = [[name, f"{_share(runs):.0%}", f"{np.median([r['displacement_m'] for r in runs]):.2f}",
                   f"{math.degrees(np.median([r['yaw_rad'] for r in runs])):.0f}"] for name, runs in talos.items()]
    timing = control_timing(4.0)

    print(format_table(["direction", "command", f"stable ({len(seeds)} seeds)", "speed m/s", "CoT", "drift",
                        "first stop"], speed_rows))
    print()
    print(format_table(["terrain (g1-functional, camera)", "crossed", "median distance m", "first stop"],
                       terrain_rows))
    print()
    print(format_table(["shove", "N·s", *DIRECTIONS], push_rows))
    print()
    print(format_table(["TALOS (examples/talos)", "no fall, no stop", "median displacement m", "median turn deg"],
                       talos_rows))
    print()
    print(format_table(ESTIMATOR_HEADER, _estimator_rows(estimator)))
    print()
    print(format_table(["figure", "measured", "goal"], [
        ["highest stable speed forward / sideways [m/s]",
         f"{best.get('forward', 0):.2f} / {best.get('sideways', 0):.2f}", ">= 1.0 / >= 0.4"],
        ["highest stable turn rate [rad/s]", f"{best.get('turning', 0):.2f}", ">= 1.0"],
        ["control tick median / p99 [ms]",
         f"{timing['control_tick_median_ms']:.3f} / {timing['control_tick_p99_ms']:.3f}", ""],
        ["full stack real-time factor", f"{timing['full_stack_real_time_factor']:.1f}x", ""],
    ]))
    results = {"robot": ROBOT, "seeds": seeds, "walk_seconds": walk_s, "machine_at_start": machine_info(),
               "walks": {f"{d} {v:g}": runs for (d, v), runs in walks.items()},
               "highest_stable": best, "terrain": terrain,
               "pushes": {f"{mode} {level:g} {d}": runs for (mode, level, d), runs in pushes.items()},
               "talos": talos, "estimator": estimator, **timing}
    print(f"wrote {write_json(args.out, results)}")


if __name__ == "__main__":
    main()
