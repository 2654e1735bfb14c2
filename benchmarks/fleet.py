"""Fleet: crossing paths, an inspection round by 3 robots against 1, a robot failing, cans fetched across a room by
3 robots against 1, a line cell's hand-overs, two robots carrying one bar, speed.

Every figure is over the report seeds (0-19 by default; the fleet's constants were tried on seeds
1000 and up, never on these). Every robot runs its own sensor-only controller; the fleet manager
and the robots talk only over the bus; ground truth scores collisions (robot-robot contacts), near
misses and falls. Runs go to worker processes (``--workers``); the real-time factor is measured
alone (``--only rtf`` on an idle machine). Prints tables and writes JSON.

    python benchmarks/fleet.py [--quick] [--seeds 20] [--workers 2] [--out ...]
        [--only cross inspect failure fetch line carry rtf] [--fetch-seeds N]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict

import laoshan  # noqa: F401  (first: it selects MuJoCo's offscreen GL backend before mujoco loads)
import numpy as np

from laoshan.bench.report import format_table, machine_info, update_json, write_json
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.robot.description import load_description
from laoshan.scenarios.fleet import FETCH_TOLERANCE_M, NEAR_MISS_M, FleetScenario, run_fleet
from laoshan.scenarios.bar_carry import BarCarryScenario, run_bar_carry
from laoshan.scenarios.line import LineScenario, run_line
from laoshan.sim.shared import Placement, SharedWorld

SECTIONS = ("cross", "inspect", "failure", "fetch", "line", "carry", "rtf")
SPOTS = 6
CROSS_ROBOTS = (2, 3)
FAIL = (1, 20.0)          # failure runs: robot 1's controller dies 20 s into the inspection round
FAILURE_SEEDS = 10        # ... over the first this many report seeds
LINE_PARTS = 2            # parts handed over per line-cell run
CANS = 6                  # cans per fetch run


def fleet_task(kind: str, robots: int, seed: int, tasks: int, fail: tuple[int, float] | None = None) -> dict:
    seconds = 600.0 if kind == "fetch" else 300.0
    r = run_fleet(FleetScenario(kind=kind, robots=robots, tasks=tasks, seed=seed, seconds=seconds, fail=fail))
    return {"delivered": r.delivered, "place_errors_m": [min(e, 99.0) for e in r.place_errors_m],
            "given_up": list(r.given_up), "seed": seed, "robots": robots, "success": r.success,
            "tasks_done": r.tasks_done, "tasks": r.tasks,
            "time_s": r.time_s, "collisions": r.collisions, "near_misses": r.near_misses, "closest_m": r.closest_m,
            "deadlock": r.deadlock, "falls": sum(f.fell for f in r.robots), "plans": r.plans,
            "planning_failures": r.planning_failures, "per_robot": [asdict(f) for f in r.robots],
            "reassigned": sum("back to the pool" in e for e in r.events), "wall_s": r.wall_s}


def line_task(seed: int) -> dict:
    r = run_line(LineScenario(parts=LINE_PARTS, seed=seed))
    return {"seed": seed, "success": r.success, "handed_over": r.handed_over, "placed": r.placed,
            "parts": r.parts, "place_errors_m": list(r.place_errors_m), "fell": r.fell, "collisions": r.collisions,
            "failures": list(r.failures), "time_s": r.time_s, "wall_s": r.wall_s}


def carry_task(seed: int) -> dict:
    r = run_bar_carry(BarCarryScenario(seed=seed))
    return {"seed": seed, "success": r.success, "on_rack": r.on_rack, "off_m": r.off_m, "off_xy_m": list(r.off_xy_m),
            "carried_m": r.carried_m, "dropped": r.dropped, "fell": r.fell, "collisions": r.collisions,
            "peak_give_cm": list(r.peak_give_cm), "energy_J": list(r.energy_J), "failures": list(r.failures),
            "carry_s": r.carry_s, "time_s": r.time_s, "wall_s": r.wall_s}


def real_time_factor(robots: int, seconds: float = 6.0) -> float:
    """Robots walking in place side by side (each its own controller), physics and control
    together: simulated over wall-clock time on this machine, one process."""
    g1 = load_description("g1-basic")
    shared = SharedWorld([Placement(g1, (0.0, 1.5 * i, 0.0)) for i in range(robots)], seed=1000)
    controllers = [LocomotionController(g1) for _ in range(robots)]
    states = shared.reset(1000)
    for c in controllers:
        c.set_velocity(0.2)
    start = time.perf_counter()
    for _ in range(int(seconds / shared.control_dt_s)):
        states = shared.step([c(s) for c, s in zip(controllers, states, strict=True)])
    return seconds / (time.perf_counter() - start)


def _summary(runs: list[dict]) -> list[object]:
    n = len(runs)
    return [f"{sum(r['success'] for r in runs) / n:.0%}", sum(r["collisions"] for r in runs),
            sum(r["deadlock"] for r in runs), sum(r["near_misses"] for r in runs),
            f"{min(r['closest_m'] for r in runs):.2f}", sum(r["falls"] for r in runs),
            f"{np.median([r['time_s'] for r in runs]):.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds")
    parser.add_argument("--seeds", type=int, default=20, help="report seeds 0..N-1 (never used while tuning)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--fetch-seeds", type=int, help="fetch: only the first N seeds (a run of 6 cans by one robot "
                        "takes about 6 min here)")
    parser.add_argument("--out", default="benchmarks/results/fleet.json", help="JSON output path")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these and update them in the JSON file")
    args = parser.parse_args()
    seeds = list(range(3 if args.quick else args.seeds))
    only = set(args.only or SECTIONS)
    fresh: dict = {"seeds": seeds, "machine_at_start": machine_info()}
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        cross = {n: [pool.submit(fleet_task, "cross", n, s, n) for s in seeds] for n in CROSS_ROBOTS} \
            if "cross" in only else {}
        inspect = {n: [pool.submit(fleet_task, "inspect", n, s, SPOTS) for s in seeds] for n in (1, 3)} \
            if "inspect" in only else {}
        fetch_seeds = seeds[:args.fetch_seeds] if args.fetch_seeds else seeds
        fetch = {n: [pool.submit(fleet_task, "fetch", n, s, CANS) for s in fetch_seeds] for n in (3, 1)} \
            if "fetch" in only else {}
        failure = [pool.submit(fleet_task, "inspect", 3, s, SPOTS, FAIL) for s in seeds[:FAILURE_SEEDS]] \
            if "failure" in only else []
        line = [pool.submit(line_task, s) for s in seeds] if "line" in only else []
        carry = [pool.submit(carry_task, s) for s in seeds] if "carry" in only else []
        if cross:
            fresh["cross"] = {str(n): [f.result() for f in fs] for n, fs in cross.items()}
            print(f"  crossing done ({time.perf_counter() - started:.0f} s)", flush=True)
        if inspect:
            fresh["inspect"] = {str(n): [f.result() for f in fs] for n, fs in inspect.items()}
            print(f"  inspection done ({time.perf_counter() - started:.0f} s)", flush=True)
        if fetch:
            fresh["fetch"] = {str(n): [f.result() for f in fs] for n, fs in fetch.items()}
            print(f"  fetch done ({time.perf_counter() - started:.0f} s)", flush=True)
        if failure:
            fresh["failure"] = [f.result() for f in failure]
            print(f"  failures done ({time.perf_counter() - started:.0f} s)", flush=True)
        if line:
            fresh["line"] = [f.result() for f in line]
            print(f"  line cell done ({time.perf_counter() - started:.0f} s)", flush=True)
        if carry:
            fresh["carry"] = [f.result() for f in carry]
            print(f"  carry done ({time.perf_counter() - started:.0f} s)", flush=True)
    if "rtf" in only:
        fresh["real_time_factor"] = {str(n): real_time_factor(n) for n in (1, 2, 3, 4)}

    headers = ["run", "success", "collisions", "deadlocks", f"near misses (< {NEAR_MISS_M} m)", "closest m",
               "falls", "median time s"]
    rows = [[f"cross, {n} robots", *_summary(runs)] for n, runs in fresh.get("cross", {}).items()]
    rows += [[f"inspect {SPOTS} spots, {n} robot{'s' if n != '1' else ''}", *_summary(runs)]
             for n, runs in fresh.get("inspect", {}).items()]
    rows += [[f"fetch {CANS} cans, {n} robot{'s' if n != '1' else ''}", *_summary(runs)]
             for n, runs in fresh.get("fetch", {}).items()]
    if "failure" in fresh:
        rows.append([f"inspect {SPOTS} spots, 3 robots, robot {FAIL[0]} dies at {FAIL[1]:g} s",
                     *_summary(fresh["failure"])])
    if rows:
        print(format_table(headers, rows))
    figures = []
    if "inspect" in fresh:
        one, three = fresh["inspect"]["1"], fresh["inspect"]["3"]
        both = [(a["time_s"], b["time_s"]) for a, b in zip(one, three, strict=True) if a["success"] and b["success"]]
        speedup = [a / b for a, b in both]
        fresh["throughput_3_vs_1"] = speedup
        figures.append(["inspection round, 3 robots against 1 (same seeds, both done): median / min",
                        f"{np.median(speedup):.2f}x / {min(speedup):.2f}x ({len(both)} seeds)" if both else "-",
                        ""])
    if "fetch" in fresh:
        one, three = fresh["fetch"]["1"], fresh["fetch"]["3"]
        both = [(a["time_s"], b["time_s"]) for a, b in zip(one, three, strict=True) if a["success"] and b["success"]]
        speedup = [a / b for a, b in both]
        fresh["fetch_throughput_3_vs_1"] = speedup
        cans = [r for rs in (one, three) for r in rs]
        errors = [e for r in cans for e in r["place_errors_m"] if e <= FETCH_TOLERANCE_M]
        figures += [["fetch throughput, 3 robots against 1, 6 cans (same seeds, both all delivered): median / min",
                     f"{np.median(speedup):.2f}x / {min(speedup):.2f}x ({len(both)} seeds)" if both else "-",
                     ">= 1.8x"],
                    ["fetch: cans delivered (upright, within 5 cm of their spots), 3 robots / 1 robot",
                     " / ".join(f"{sum(r['delivered'] for r in rs)} of {CANS * len(rs)}" for rs in (three, one)), ""],
                    ["fetch: each delivered can from its spot (median / max)",
                     f"{np.median(errors) * 100:.1f} / {max(errors) * 100:.1f} cm" if errors else "-", ""],
                    ["fetch: robot-robot collisions / deadlocks / falls (all runs)",
                     f"{sum(r['collisions'] for r in cans)} / {sum(r['deadlock'] for r in cans)} / "
                     f"{sum(r['falls'] for r in cans)}", "0 / 0 / 0"]]
    if "failure" in fresh:
        runs = fresh["failure"]
        figures.append(["a robot dies mid-round: its task done by another, every task done, no collision",
                        f"{sum(r['success'] for r in runs)} of {len(runs)} (tasks given back: "
                        f"{sum(r['reassigned'] for r in runs)})", ""])
    for kind in ("cross", "inspect"):
        if kind in fresh:
            runs = [r for rs in fresh[kind].values() for r in rs]
            figures.append([f"{kind}: robot-robot collisions / deadlocks",
                            f"{sum(r['collisions'] for r in runs)} / {sum(r['deadlock'] for r in runs)}", "0 / 0"])
    if "real_time_factor" in fresh:
        figures.append(["real-time factor with 1 / 2 / 3 / 4 robots (one process)",
                        " / ".join(f"{v:.2f}x" for v in fresh["real_time_factor"].values()), ""])
    if "line" in fresh:
        runs = fresh["line"]
        parts = sum(r["parts"] for r in runs)
        errors = [e for r in runs for e in r["place_errors_m"]]
        figures += [["robot-to-robot hand-over (line cell, parts held by B alone as A let go)",
                     f"{sum(r['handed_over'] for r in runs) / parts:.0%} of {parts}", ">= 90%"],
                    ["... set down upright within 3 cm of B's spot / runs all done, no fall or collision",
                     f"{sum(r['placed'] for r in runs) / parts:.0%} (median {np.median(errors) * 100:.1f} cm) / "
                     f"{sum(r['success'] for r in runs)} of {len(runs)}", ""]]
    if "carry" in fresh:
        runs = fresh["carry"]
        done = [r for r in runs if r["success"]]
        figures += [["cooperative carry (two G1s, 1.2 m 4 kg bar, ~3 m sideways onto a rack; no fall, no drop)",
                     f"{len(done) / len(runs):.0%} of {len(runs)}", ">= 90%"],
                    ["... bar's centre from the rack's / carry time (median of those done)",
                     f"{np.median([r['off_m'] for r in done]) * 100:.1f} cm / "
                     f"{np.median([r['carry_s'] for r in done]):.1f} s" if done else "-", ""],
                    ["... falls / drops / robot-robot collisions (all runs)",
                     f"{sum(r['fell'] for r in runs)} / {sum(r['dropped'] for r in runs)} / "
                     f"{sum(r['collisions'] for r in runs)}", "0"]]
    print(format_table(["figure", "measured", "goal"], figures))
    path = update_json(args.out, fresh) if args.only else write_json(args.out, fresh)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
