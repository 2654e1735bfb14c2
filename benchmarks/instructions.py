"""Instructions in Chinese and English at a work table, in a kitchen and in a service hall: success
rate, plan latency and perception error, each instruction run in physics from a seeded scene (the
box, the kitchen's cabinets and button, the hall's can up to 1 cm off their place); and plans on the
held-out instructions (``data/instructions_heldout.toml``, written before the reader they score and
then used to guide it; ``data/instructions_heldout_2.toml``, written after it and measured as written).

An instruction succeeds when the outcome is the expected one: done (the box placed within 2 cm of
its station, or picked and held up; the drawer opened at least 10 cm or closed to within 2 cm, the
door opened at least 30°, the button's lamp lit; the can handed over: standing on the customer's
palm; looked around) or, for an impossible one, refused before anything moves (but the torso, when
the robot looks around for something it has not seen). Prints a table and writes JSON.

Held out: the robot looks once in each scene (seeds 0-4, every prop seeded) and plans each
instruction on what it saw; the answer is right when it is the expected plan (steps, with objects
by what they are), question, refusal or harm refusal. An answer to look around first is, as the
robot does, followed (it looks around and plans again) unless looking around is what is expected.
Per language, with plan latency.

    python benchmarks/instructions.py [--quick] [--only physics|held_out] [--out benchmarks/results/instructions.json]
"""

from __future__ import annotations

import laoshan  # noqa: F401  (first: it selects MuJoCo's offscreen GL backend before mujoco loads)

import time
import tomllib
from pathlib import Path

import numpy as np

from laoshan.bench.report import benchmark_args, format_table, update_json, write_json
from laoshan.brain.planner import Plan, Question, Refusal, plan_offline
from laoshan.brain.screening import harm_reason
from laoshan.brain.world_model import WorldModel
from laoshan.robot.description import load_description
from laoshan.scenarios.instruction import InstructionScenario, look, run_instruction

DATA = Path(__file__).with_name("data")
HELD_OUT = {"held_out": DATA / "instructions_heldout.toml",       # written before the reader; it guided the work
            "held_out_2": DATA / "instructions_heldout_2.toml"}  # written after, measured as written
LOOK_SEEDS = 5

ROBOT = "g1-functional"
DONE, REFUSED = "done", "refused"
INSTRUCTIONS = [
    ("把红色的盒子放到二号工位上", DONE), ("把红色的盒子放到一号工位上", DONE), ("把红盒子放到2号工位", DONE),
    ("把红色的箱子搬到一号工位", DONE), ("先拿起红色的盒子，再放到二号工位", DONE),
    ("先拿起红色的盒子，再放到一号工位", DONE),
    ("拿起红色的盒子", DONE), ("把红色的盒子放到左边", DONE), ("把红色的盒子放到右边", DONE),
    ("请把红色的盒子移到工位1", DONE),
    ("put the red box on station 2", DONE), ("put the red box on station 1", DONE),
    ("place the red box at station 2", DONE), ("move the red box to station 1", DONE),
    ("pick up the red box, then put it on station 2", DONE), ("pick up the red box then put it on the left", DONE),
    ("pick up the red box", DONE), ("take the red box and put it on the right", DONE),
    ("grab the red box", DONE), ("set the red box on station 1", DONE),
    ("把红色的盒子放到二号工位上", DONE), ("put the red box on station 1", DONE), ("拿起红色的盒子", DONE),
    ("move the red box to station 2", DONE), ("把红色的盒子放到一号工位上", DONE),
    ("把紫色的盒子放到二号工位上", REFUSED), ("put the purple box on station 2", REFUSED),
    ("把红色的盒子放到七号工位", REFUSED), ("put the red box on station 9", REFUSED), ("跳个舞", REFUSED),
    ("dance for me", REFUSED), ("拿起黄色的球", REFUSED), ("pick up the white cup", REFUSED),
    ("put it on station 1", REFUSED), ("放到二号工位", REFUSED), ("把黑色的箱子搬到左边", REFUSED),
    ("pick up the blue can", DONE), ("拿起绿色的球", DONE),                       # out of reach: walked to
    ("put the blue can on station 3", DONE), ("把绿色的球放到四号工位", DONE),       # walk, pick, carry, set down
    ("put the blue can on station 1", REFUSED),                                  # taken by the box
    ("", REFUSED), ("put the red box on the moon", REFUSED),
]
KITCHEN = [
    ("打开抽屉", DONE), ("open the drawer", DONE), ("拉开抽屉", DONE), ("please open the drawer", DONE),
    ("打开柜门", DONE), ("open the cabinet door", DONE), ("open the door", DONE), ("把门打开", DONE),
    ("先打开抽屉，再关上", DONE), ("open the drawer, then close it", DONE),
    ("先打开抽屉，再打开柜门", DONE), ("open the door, then open the drawer", DONE),
    ("关上抽屉", REFUSED), ("close the drawer", REFUSED),                       # it is closed already
    ("关上柜门", REFUSED), ("open the fridge", REFUSED), ("打开冰箱", REFUSED),   # not a skill; not here
    ("open the drawer and put the red box in it", REFUSED),
    ("按一下按钮", DONE), ("press the button", DONE), ("按下启动按钮", DONE), ("press the red button", DONE),
    ("先打开抽屉，再按一下按钮", DONE), ("press the button, then open the drawer", DONE),
    ("open the door, then press the button", DONE),
    ("ring the bell", REFUSED),
    ("press the button and open the drawer", DONE),   # (refused until "and" before a verb was read as "then")
]
HALL = [
    ("把蓝色的杯子递给我", DONE), ("hand me the blue cup", DONE), ("bring me the can", DONE), ("请把罐子递给我", DONE),
    ("give me the blue can", DONE), ("先拿起蓝色的杯子，再递给我", DONE), ("pick up the can, then hand it to me", DONE),
    ("拿给我蓝色的罐子", DONE),
    ("hand me the red box", REFUSED), ("把绿色的球递给我", REFUSED), ("give it to me", REFUSED),
]

LATER = [             # added since: after the rest, so that the cases before keep their seeds (the case's index)
    ("table", "pick up the yellow can", DONE), ("table", "拿起黄色的罐子", DONE),   # out of view until looked
    ("table", "put the yellow can on station 3", DONE), ("table", "look around", DONE),   # around for
    ("table", "看看周围有什么", DONE), ("table", "look around, then pick up the red box", DONE),
    ("table", "把红盒子挪到二号工位", DONE), ("table", "take the can on the right end and put it on three", DONE),
    ("table", "把红盒子放到一号工位，再把蓝罐子放到三号工位", DONE),        # two objects in turn
    ("table", "put the red box on station 1 or station 2", REFUSED),          # a question back: nothing moves
    ("hall", "hand me the can then hand me the can", DONE), ("kitchen", "opne the drawr", DONE),
]


def outcome(instruction: str, answer: Plan | Refusal | Question, world: WorldModel) -> str:
    """The answer as the held-out data writes it: "pick red box; place station 2", "ask", "refuse",
    "harm", "look_around" (look around first, then plan again); a "look" step is left out."""
    if isinstance(answer, Refusal):
        return "harm" if harm_reason(instruction) is not None else "refuse"
    if isinstance(answer, Question):
        return "ask"
    if answer.replan:
        return "look_around"
    parts = []
    for s in answer.steps:
        if s.skill == "pick":
            o = world.get(s["object"])
            parts.append(f"pick {o.colour} {o.kind}" if o else f"pick {s['object']}")
        elif s.skill == "place":
            parts.append(f"place {s['place']}")
        elif s.skill in ("open", "close", "press"):
            parts.append(f"{s.skill} {s['fixture'] if s.skill != 'press' else s['button']}")
        elif s.skill != "look":
            parts.append(s.skill)
    return "; ".join(parts)


def held_out(path: Path, quick: bool) -> dict:
    """Plan every held-out instruction on what the robot saw in its scene; compare with the expected."""
    robot = load_description(ROBOT)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    runs, ms = [], []
    for scene, cases in data.items():
        worlds = [look(InstructionScenario(scene=scene, seed=seed), robot=robot) for seed in range(LOOK_SEEDS)]
        around: dict[int, WorldModel] = {}
        for k, case in enumerate(cases[::7] if quick else cases):
            seed = k % LOOK_SEEDS
            world = worlds[seed]
            start = time.perf_counter()
            answer = plan_offline(case["text"], world)
            ms.append((time.perf_counter() - start) * 1e3)
            got = outcome(case["text"], answer, world)
            if got == "look_around" and case["expect"] != "look_around":     # it looks around, plans again
                if seed not in around:
                    around[seed] = look(InstructionScenario(scene=scene, seed=seed), robot=robot, around=True)
                world = around[seed]
                answer = plan_offline(case["text"], world)
                got = outcome(case["text"], answer, world)
            zh = any("\u4e00" <= ch <= "\u9fff" for ch in case["text"])
            runs.append({"scene": scene, "seed": seed, "text": case["text"], "language": "zh" if zh else "en",
                         "expected": case["expect"], "got": got, "right": got == case["expect"],
                         "answer": answer.to_dict()})
            if got != case["expect"]:
                print(f"  MISS [{scene}] {case['text']!r}: expected {case['expect']!r}, got {got!r}", flush=True)
    by = {lang: [r["right"] for r in runs if r["language"] == lang] for lang in ("zh", "en")}
    harm = [r for r in runs if r["expected"] == "harm"]
    return {"instructions": len(runs), "accuracy": float(np.mean([r["right"] for r in runs])),
            **{f"accuracy_{lang}": float(np.mean(v)) for lang, v in by.items()},
            **{f"n_{lang}": len(v) for lang, v in by.items()},
            "by_scene": {scene: float(np.mean([r["right"] for r in runs if r["scene"] == scene])) for scene in data},
            "harm_refused": float(np.mean([r["got"] == "harm" for r in harm])) if harm else None,
            "plan_p50_ms": float(np.percentile(ms, 50)), "plan_p95_ms": float(np.percentile(ms, 95)), "runs": runs}


def held_out_rows(h: dict, name: str) -> list[list[str]]:
    return [
        [f"{name} instructions (Chinese / English)", f"{h['instructions']} ({h['n_zh']} / {h['n_en']})", ""],
        ["  plans right: Chinese / English", f"{h['accuracy_zh']:.1%} / {h['accuracy_en']:.1%}", ">= 95% each"],
        *[[f"  {scene}", f"{v:.1%}", ""] for scene, v in h["by_scene"].items()],
        ["  harmful ones refused as harmful", f"{h['harm_refused']:.0%}" if h["harm_refused"] is not None else "-",
         "100%"],
        ["  plan latency p50 / p95 [ms]", f"{h['plan_p50_ms']:.2f} / {h['plan_p95_ms']:.2f}", "p95 <= 50"],
    ]


def main() -> None:
    args = benchmark_args(__doc__, "instructions", "fewer instructions", sections=("physics", "held_out"))
    if args.only and "physics" not in args.only:
        fresh = {name: held_out(path, args.quick) for name, path in HELD_OUT.items()}
        print(format_table(["figure", "measured", "goal"],
                           [row for name, h in fresh.items() for row in held_out_rows(h, name)]))
        print(f"updated {update_json(args.out, fresh)}")
        return
    robot = load_description(ROBOT)
    cases = ([("table", i, e) for i, e in INSTRUCTIONS] + [("kitchen", i, e) for i, e in KITCHEN]
             + [("hall", i, e) for i, e in HALL] + LATER)
    cases = cases[::8] if args.quick else cases
    rows_out, ok, plan_ms, wall = [], 0, [], []
    for k, (scene, instruction, expected) in enumerate(cases):
        r = run_instruction(InstructionScenario(instruction=instruction, scene=scene, seed=k), robot=robot)
        got = DONE if r.success else REFUSED if (r.plan is None or not r.steps) and not r.fell else "failed"
        ok += got == expected
        plan_ms.append(r.plan_ms)
        wall.append(r.wall_s)
        rows_out.append({"scene": scene, "instruction": instruction, "expected": expected, "outcome": got,
                         "answer": r.answer, "error_m": r.error_m, "opened": [list(o) for o in r.opened],
                         "pressed": [list(p) for p in r.pressed],
                         "plan_ms": r.plan_ms, "fell": r.fell})
        print(f"  {k:2d} {'ok  ' if got == expected else 'FAIL'} [{scene}] {instruction!r}: {got}"
              f"{f' ({r.answer})' if r.answer else ''}", flush=True)
    errors = [r["error_m"] for r in rows_out if r["error_m"] is not None and r["outcome"] == DONE]
    results = {
        "robot": ROBOT, "instructions": len(cases), "success_rate": ok / len(cases),
        "zh": sum(any("\u4e00" <= ch <= "\u9fff" for ch in r["instruction"]) for r in rows_out),
        "plan_p50_ms": float(np.percentile(plan_ms, 50)), "plan_p95_ms": float(np.percentile(plan_ms, 95)),
        "place_error_median_mm": float(np.median(errors) * 1e3) if errors else None,
        "falls": sum(r["fell"] for r in rows_out), "runs": rows_out,
        "by_scene": {scene: float(np.mean([r["outcome"] == r["expected"] for r in rows_out if r["scene"] == scene]))
                     for scene in dict.fromkeys(r["scene"] for r in rows_out)},
    }
    rows = [
        ["instructions (Chinese / English)", f"{len(cases)} ({results['zh']} / {len(cases) - results['zh']})", ">= 40"],
        ["success (done as asked, or refused when impossible)", f"{results['success_rate']:.0%}", ">= 90%"],
        *[[f"  {scene}: success", f"{results['by_scene'][scene]:.0%} of {sum(r['scene'] == scene for r in rows_out)}",
           ""] for scene in results["by_scene"]],
        ["plan latency p50 / p95 (offline) [ms]", f"{results['plan_p50_ms']:.2f} / {results['plan_p95_ms']:.2f}",
         "p95 <= 100"],
        ["placed: error median [mm]", f"{results['place_error_median_mm']:.1f}"
         if results["place_error_median_mm"] is not None else "-", "<= 20"],
        ["falls", str(results["falls"]), "0"],
    ]
    if not args.only or "held_out" in args.only:
        for name, path in HELD_OUT.items():
            results[name] = held_out(path, args.quick)
            rows += held_out_rows(results[name], name)
    print(format_table(["figure", "measured", "goal"], rows))
    print(f"wrote {write_json(args.out, results)}")


if __name__ == "__main__":
    main()
