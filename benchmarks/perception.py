"""Perception from the head camera: how far off the objects are placed, how often they are found,
and how fast the pipeline runs.

Seeded scenes of three objects (a box, a cylinder and a sphere in random colours) scattered on a
table in front of the functional G1; the robot stands, takes one RGB-D frame and places each
object in the world with its own pose estimate. Ground truth scores it. Prints a table and writes
JSON.

    python benchmarks/perception.py [--quick] [--out benchmarks/results/perception.json]
"""

from __future__ import annotations

import time

import laoshan  # noqa: F401  (first: it selects MuJoCo's offscreen GL backend before mujoco loads)
import numpy as np

from laoshan.bench.report import benchmark_args, format_table, write_json
from laoshan.brain.perception import detect_objects
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.robot.description import load_description
from laoshan.sim.body import SimBody
from laoshan.sim.render import RgbdCamera
from laoshan.sim.world import Table, Thing, WorldSpec

ROBOT = "g1-functional"
COLOURS = {"red": (0.8, 0.2, 0.2, 1.0), "green": (0.2, 0.8, 0.3, 1.0), "blue": (0.2, 0.5, 0.9, 1.0),
           "yellow": (0.9, 0.8, 0.1, 1.0)}
TABLE_Z = 0.70


def scene(seed: int) -> WorldSpec:
    """Three objects in three of the colours, each in its own third of the table (left to right)."""
    rng = np.random.default_rng(seed)
    colours = rng.choice(list(COLOURS), 3, replace=False)
    shapes = [("box", (0.05, 0.05, 0.05)), ("cylinder", (0.033, 0.06)), ("sphere", (0.04,))]
    things = []
    for k, (shape, size) in enumerate(shapes):
        x, y = rng.uniform(0.40, 0.50), (0.2, 0.0, -0.2)[k] + rng.uniform(-0.05, 0.05)
        half_z = size[-1] if shape != "sphere" else size[0]
        things.append(Thing(f"obj{k}", shape, size, 0.3, (x, y, TABLE_Z + half_z), rgba=COLOURS[colours[k]]))
    return WorldSpec(tables=(Table("table", (0.55, 0.0), (0.4, 0.8), TABLE_Z),), things=tuple(things), seed=seed)


def main() -> None:
    args = benchmark_args(__doc__, "perception", "fewer scenes")
    robot = load_description(ROBOT)
    n = 5 if args.quick else 50
    errors, found, shown, detect_ms, render_ms = [], 0, 0, [], []
    for seed in range(n):
        world = scene(seed)
        body = SimBody(robot, world=world, cameras=True, seed=seed)
        ctl = LocomotionController(robot)
        state = body.reset(seed)
        for _ in range(250):
            state = body.step(ctl(state))
        frame = state.rgbd["head"]
        X = ctl.model.robot.get_T_world_frame(robot.cameras[0].link)
        start = time.perf_counter()
        seen = detect_objects(frame, X)
        detect_ms.append((time.perf_counter() - start) * 1e3)
        camera = RgbdCamera(body.model, robot.cameras[0].name, robot.catalog.get("camera", robot.cameras[0].part),
                            np.random.default_rng(seed))
        start = time.perf_counter()
        camera.capture(body.data, body.time_s)
        render_ms.append((time.perf_counter() - start) * 1e3)
        camera.close()
        for k, thing in enumerate(world.things):
            shown += 1
            colour = next(c for c, rgba in COLOURS.items() if rgba == thing.rgba)
            truth = body.data.body(f"obj{k}").xpos                              # scoring only
            match = [d for d in seen if d.colour == colour]
            if match:
                found += 1
                errors.append(float(np.linalg.norm(match[0].p_world_m - truth)))
        body.close()
        print(f"  scene {seed}: {len(seen)} objects seen", flush=True)
    results = {
        "robot": ROBOT, "scenes": n, "objects": shown, "found": found,
        "error_median_mm": float(np.median(errors) * 1e3), "error_p95_mm": float(np.percentile(errors, 95) * 1e3),
        "error_max_mm": float(np.max(errors) * 1e3),
        "detect_median_ms": float(np.median(detect_ms)), "render_median_ms": float(np.median(render_ms)),
        "pipeline_fps": float(1e3 / (np.median(detect_ms) + np.median(render_ms))),
        "image_px": [frame.rgb.shape[1], frame.rgb.shape[0]],
    }
    rows = [
        ["objects found (box, cylinder, sphere per scene)", f"{found}/{shown}", "-"],
        ["position error median / p95 / max [mm]",
         f"{results['error_median_mm']:.1f} / {results['error_p95_mm']:.1f} / {results['error_max_mm']:.1f}", "<= 30"],
        ["detection per frame, median [ms]", f"{results['detect_median_ms']:.1f}", "-"],
        ["RGB-D render per frame (simulated camera), median [ms]", f"{results['render_median_ms']:.1f}", "-"],
        [f"pipeline frames per second ({results['image_px'][0]}x{results['image_px'][1]})",
         f"{results['pipeline_fps']:.0f}", "-"],
    ]
    print(format_table(["figure", "measured", "goal"], rows))
    print(f"wrote {write_json(args.out, results)}")


if __name__ == "__main__":
    main()
