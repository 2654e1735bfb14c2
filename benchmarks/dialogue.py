"""Service dialogue: intent accuracy and slot F1 per hall and language on held-out sentence
patterns, a second check on hand-written utterances never used to build the data, reply latency
of the whole dialogue manager, and guiding walks in physics to every place of every hall.

The held-out split: a quarter of each intent's templates (per language) never seen in training;
the recogniser is trained on the rest. Slot F1 is over (slot, value) pairs, as the dialogue gets
them (after the recognised intent keeps the slots it takes). Guiding: one robot per hall walks
from reception to each place in turn, on its own pose estimate; a walk succeeds when it stops
within 0.3 m of the spot (ground truth). Prints a table and writes JSON.

    python benchmarks/dialogue.py [--quick] [--out benchmarks/results/dialogue.json]
"""

from __future__ import annotations

import laoshan  # noqa: F401  (first: it selects MuJoCo's offscreen GL backend before mujoco loads)

import time
import tomllib
from pathlib import Path

import numpy as np

from laoshan.bench.report import benchmark_args, format_table, write_json
from laoshan.brain.dialogue.corpus import examples
from laoshan.brain.dialogue.domain import DOMAINS, LANGUAGES, load_domain
from laoshan.brain.dialogue.manager import DialogueManager
from laoshan.brain.dialogue.nlu import Nlu, offline_nlu
from laoshan.scenarios.guide import GOAL_TOLERANCE_M, HallRobot

FRESH = Path(__file__).with_name("data") / "dialogue_fresh.toml"
PEOPLE = ("alice", "bob", "carol")


def held_out(domain: str) -> dict:
    """Train on the training patterns, score the held-out ones, per language."""
    d = load_domain(domain)
    start = time.perf_counter()
    nlu = Nlu(d, split="train")
    train_s = time.perf_counter() - start
    out: dict = {"train_s": train_s}
    for lang in LANGUAGES:
        test = examples(d, "test", seed=1, languages=(lang,))
        right = tp = fp = fn = 0
        for e in test:
            p = nlu.parse(e.text)
            right += p.intent == e.intent
            gold, pred = set(e.slots), set(p.slots.items())
            tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
        out[lang] = {"utterances": len(test), "intent_accuracy": right / len(test),
                     "slot_f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0}
    return out


def fresh_set(domain: str) -> dict:
    """The shipped recogniser on hand-written utterances (intent and exact slots)."""
    nlu = offline_nlu(domain)
    cases = tomllib.loads(FRESH.read_text(encoding="utf-8"))[domain]
    misses = []
    intents = slots = 0
    for c in cases:
        p = nlu.parse(c["text"])
        intents += p.intent == c["intent"]
        slots += p.slots == c["slots"]
        if p.intent != c["intent"]:
            misses.append(f"{c['text']} -> {p.intent}")
    return {"utterances": len(cases), "intent_accuracy": intents / len(cases), "slots_exact": slots / len(cases),
            "misses": misses}


def latency(domain: str) -> list[float]:
    """Milliseconds per reply of the dialogue manager (three people taking turns)."""
    dm = DialogueManager.for_hall(domain)
    out = []
    for k, e in enumerate(examples(dm.domain, "test", seed=2)):
        start = time.perf_counter()
        dm.turn(PEOPLE[k % len(PEOPLE)], e.text)
        out.append((time.perf_counter() - start) * 1e3)
    return out


def guiding(domain: str, seed: int) -> list[dict]:
    d = load_domain(domain)
    hall = HallRobot(d, seed=seed)
    walks = []
    for place in d.places:
        r = hall.walk_to(place)
        walks.append({"place": place, "success": r.success, "error_m": r.error_m, "fell": r.fell,
                      "seconds": r.seconds, "wall_s": r.wall_s})
        print(f"  guide {domain:10s} -> {place:16s} {'ok  ' if r.success else 'FAIL'} {r.error_m:.3f} m "
              f"in {r.seconds:.1f} s", flush=True)
        if r.fell:
            break
    return walks


def main() -> None:
    args = benchmark_args(__doc__, "dialogue", "one hall's guiding walks")
    results: dict = {"halls": {}}
    all_ms: list[float] = []
    rows = []
    for k, domain in enumerate(DOMAINS):
        h = held_out(domain)
        f = fresh_set(domain)
        ms = latency(domain)
        all_ms += ms
        walks = guiding(domain, seed=k) if not args.quick or k == 0 else []
        results["halls"][domain] = {"held_out": h, "fresh": f, "latency_p50_ms": float(np.percentile(ms, 50)),
                                    "latency_p95_ms": float(np.percentile(ms, 95)), "guiding": walks}
        for lang in LANGUAGES:
            rows.append([domain, lang, h[lang]["utterances"], f"{h[lang]['intent_accuracy']:.1%}",
                         f"{h[lang]['slot_f1']:.3f}"])
        rows.append([domain, "fresh", f["utterances"], f"{f['intent_accuracy']:.0%}",
                     f"slots exact {f['slots_exact']:.0%}"])
    walks = [w for h in results["halls"].values() for w in h["guiding"]]
    held = [h["held_out"][lang] for h in results["halls"].values() for lang in LANGUAGES]
    n = sum(x["utterances"] for x in held)
    results.update({
        "intent_accuracy": sum(x["intent_accuracy"] * x["utterances"] for x in held) / n,
        "intent_accuracy_min": min(x["intent_accuracy"] for x in held),
        "fresh_intent_accuracy": float(np.mean([h["fresh"]["intent_accuracy"] for h in results["halls"].values()])),
        "latency_p50_ms": float(np.percentile(all_ms, 50)), "latency_p95_ms": float(np.percentile(all_ms, 95)),
        "guide_walks": len(walks),
        "guide_success_rate": float(np.mean([w["success"] for w in walks])) if walks else None,
        "guide_error_median_m": float(np.median([w["error_m"] for w in walks])) if walks else None,
        "guide_error_max_m": float(np.max([w["error_m"] for w in walks])) if walks else None,
    })
    print(format_table(["hall", "split", "utterances", "intent accuracy", "slot F1"], rows))
    summary = [
        ["intent accuracy, held-out patterns (all halls, zh+en; worst hall/language)",
         f"{results['intent_accuracy']:.1%} (worst {results['intent_accuracy_min']:.1%})", ">= 95%"],
        ["intent accuracy, hand-written utterances", f"{results['fresh_intent_accuracy']:.0%}", "-"],
        ["reply latency p50 / p95 [ms]", f"{results['latency_p50_ms']:.2f} / {results['latency_p95_ms']:.2f}",
         "p95 <= 100"],
        [f"guiding walks within {GOAL_TOLERANCE_M} m",
         f"{sum(w['success'] for w in walks)}/{len(walks)}" if walks else "-", "all"],
        ["guiding stop error median / max [m]", f"{results['guide_error_median_m']:.3f} / "
         f"{results['guide_error_max_m']:.3f}" if walks else "-", "<= 0.3"],
    ]
    print(format_table(["figure", "measured", "goal"], summary))
    print(f"wrote {write_json(args.out, results)}")


if __name__ == "__main__":
    main()
