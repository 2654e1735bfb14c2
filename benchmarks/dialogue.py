"""Service dialogue: intent accuracy and slot F1 per hall and language on held-out sentence
patterns, a second check on hand-written utterances never used to build the data, reply latency
of the whole dialogue manager, and guiding walks in physics to every place of every hall.

The held-out split: a quarter of each intent's templates (per language) never seen in training;
the recogniser is trained on the rest. Slot F1 is over (slot, value) pairs, as the dialogue gets
them (after the recognised intent keeps the slots it takes). Guiding: one robot per hall walks
from reception to each place in turn, on its own pose estimate; a walk succeeds when it stops
within 0.3 m of the spot (ground truth). Prints a table and writes JSON.

Held out (``data/utterances_heldout.toml`` and ``data/dialogue_scripts_heldout.toml``, written
before the recogniser and the manager they score, which they then guided; ``..._heldout_2.toml``,
written after them and measured as written): intent accuracy per hall and language, exact
slots, out-of-scope recall and precision, and the multi-turn and multi-person scripts (a script
passes when every reply goes to its speaker with the expected intent, slots and action).

    python benchmarks/dialogue.py [--quick] [--only held_out] [--out benchmarks/results/dialogue.json]
"""

from __future__ import annotations

import laoshan  # noqa: F401  (first: it selects MuJoCo's offscreen GL backend before mujoco loads)

import time
import tomllib
from pathlib import Path

import numpy as np

from laoshan.bench.report import benchmark_args, format_table, update_json, write_json
from laoshan.brain.dialogue.corpus import OUT_OF_SCOPE, examples
from laoshan.brain.dialogue.domain import DOMAINS, LANGUAGES, load_domain
from laoshan.brain.dialogue.manager import DialogueManager
from laoshan.brain.dialogue.nlu import Nlu, language_of, offline_nlu
from laoshan.scenarios.guide import GOAL_TOLERANCE_M, HallRobot

DATA = Path(__file__).with_name("data")
FRESH = DATA / "dialogue_fresh.toml"
HELD_OUT = {   # the first written before the recogniser and manager (it then guided them); the second after
    "held_out": (DATA / "utterances_heldout.toml", DATA / "dialogue_scripts_heldout.toml"),
    "held_out_2": (DATA / "utterances_heldout_2.toml", DATA / "dialogue_scripts_heldout_2.toml"),
    "held_out_3": (DATA / "utterances_heldout_3.toml", None),
}
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


def held_out_utterances(path: Path) -> dict:
    """The shipped recogniser of each hall on the held-out utterances, one at a time, no context."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    runs, ms = [], []
    for domain, cases in data.items():
        nlu = offline_nlu(domain)
        nlu.parse("你好")                                   # (warm: the first parse loads what it needs)
        for c in cases:
            start = time.perf_counter()
            p = nlu.parse(c["text"])
            ms.append((time.perf_counter() - start) * 1e3)
            runs.append({"hall": domain, "text": c["text"], "language": language_of(c["text"]),
                         "intent": c["intent"], "got": p.intent, "slots": c["slots"], "got_slots": p.slots})
    oos = [r for r in runs if r["intent"] == OUT_OF_SCOPE]
    said_oos = [r for r in runs if r["got"] == OUT_OF_SCOPE]
    out: dict = {"utterances": len(runs), "intent_accuracy": float(np.mean([r["intent"] == r["got"] for r in runs])),
                 "slots_exact": float(np.mean([r["slots"] == r["got_slots"] for r in runs if r["intent"] == r["got"]])),
                 "oos_recall": float(np.mean([r["got"] == OUT_OF_SCOPE for r in oos])),
                 "oos_precision": float(np.mean([r["intent"] == OUT_OF_SCOPE for r in said_oos])) if said_oos else 1.0,
                 "parse_p95_ms": float(np.percentile(ms, 95)),
                 "misses": [f"[{r['hall']}] {r['text']} -> {r['got']} (not {r['intent']})" for r in runs
                            if r["intent"] != r["got"]], "by": {}}
    for domain in data:
        for lang in LANGUAGES:
            rs = [r for r in runs if r["hall"] == domain and r["language"] == lang]
            out["by"][f"{domain}/{lang}"] = {"utterances": len(rs),
                                             "intent_accuracy": float(np.mean([r["intent"] == r["got"] for r in rs]))}
    return out


def held_out_scripts(path: Path) -> dict:
    """Each script through a fresh dialogue manager of its hall; reply latency over all turns."""
    scripts = tomllib.loads(path.read_text(encoding="utf-8"))["script"]
    results, ms = [], []
    for script in scripts:
        dm = DialogueManager.for_hall(script["hall"])
        turns, failures = script["turns"], []
        k = 0
        while k < len(turns):
            group = [turns[k]]
            while k + len(group) < len(turns) and turns[k + len(group)].get("together"):
                group.append(turns[k + len(group)])
            start = time.perf_counter()
            for t in group:
                dm.hear(t["person"], t["text"])
            replies = [dm.respond() for _ in group]
            ms.append((time.perf_counter() - start) * 1e3 / len(group))
            for t, r in zip(group, replies, strict=True):
                assert r is not None
                kinds = [a["type"] for a in r.to_dict()["actions"]]
                want = t.get("action")
                ok = (r.person == t["person"] and r.intent == t["intent"] and r.slots == t["slots"]
                      and (want is None or (want in kinds if want != "none" else not kinds)))
                if not ok:
                    failures.append(f"{t['person']}: {t['text']!r} -> {r.person} {r.intent} {r.slots} {kinds} "
                                    f"(expected {t['intent']} {t['slots']} {want or ''})")
            k += len(group)
        people = len({t["person"] for t in turns})
        results.append({"hall": script["hall"], "name": script["name"], "people": people, "turns": len(turns),
                        "passed": not failures, "failures": failures})
    multi = [r for r in results if r["people"] > 1]
    return {"scripts": len(results), "passed": float(np.mean([r["passed"] for r in results])),
            "multi_person": len(multi), "multi_person_passed": float(np.mean([r["passed"] for r in multi])),
            "turns": sum(r["turns"] for r in results), "reply_p50_ms": float(np.percentile(ms, 50)),
            "reply_p95_ms": float(np.percentile(ms, 95)), "runs": results}


def held_out_rows(u: dict, s: dict | None, name: str) -> list[list[str]]:
    zh = [v for k, v in u["by"].items() if k.endswith("/zh")]
    en = [v for k, v in u["by"].items() if k.endswith("/en")]

    def acc(vs: list[dict]) -> str:
        n = sum(v["utterances"] for v in vs)
        return f"{sum(v['intent_accuracy'] * v['utterances'] for v in vs) / n:.1%}"

    return [
        [f"{name} utterances: intent (zh / en)", f"{u['intent_accuracy']:.1%} of {u['utterances']} "
         f"({acc(zh)} / {acc(en)})", ">= 97%"],
        *[[f"  {hall}", f"{acc([u['by'][f'{hall}/{lang}'] for lang in LANGUAGES])}", ""]
          for hall in dict.fromkeys(k.split("/")[0] for k in u["by"])],
        ["  slots exact (intent right)", f"{u['slots_exact']:.1%}", "-"],
        ["  out of scope: recall / precision", f"{u['oos_recall']:.1%} / {u['oos_precision']:.1%}", ">= 90% recall"],
        ["  parse latency p95 [ms]", f"{u['parse_p95_ms']:.2f}", "p95 <= 50"],
        *([[f"{name} scripts passed (turns)", f"{s['passed']:.1%} of {s['scripts']} ({s['turns']})", "-"],
           ["  multi-person scripts passed", f"{s['multi_person_passed']:.1%} of {s['multi_person']}", ">= 90%"],
           ["  reply latency p50 / p95 [ms]", f"{s['reply_p50_ms']:.2f} / {s['reply_p95_ms']:.2f}", "p95 <= 50"]]
          if s else []),
    ]


def held_out_sets() -> tuple[dict, list[list[str]]]:
    """Every held-out set: its results by name, and its table rows (the misses printed)."""
    results: dict = {}
    rows: list[list[str]] = []
    for name, (utterances, scripts) in HELD_OUT.items():
        u, s = held_out_utterances(utterances), held_out_scripts(scripts) if scripts else None
        _print_misses(name, u, s)
        results |= {f"{name}_utterances": u, **({f"{name}_scripts": s} if s else {})}
        rows += held_out_rows(u, s, name)
    return results, rows


def _print_misses(name: str, u: dict, s: dict | None) -> None:
    for miss in u["misses"]:
        print(f"  {name} MISS {miss}")
    for r in s["runs"] if s else []:
        for f in r["failures"]:
            print(f"  {name} SCRIPT [{r['hall']}] {r['name']}: {f}")


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
    args = benchmark_args(__doc__, "dialogue", "one hall's guiding walks", sections=("held_out",))
    if args.only:
        fresh, rows = held_out_sets()
        print(format_table(["figure", "measured", "goal"], rows))
        print(f"updated {update_json(args.out, fresh)}")
        return
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
    fresh, rows = held_out_sets()
    results |= fresh
    print(format_table(["figure", "measured", "goal"], summary + rows))
    print(f"wrote {write_json(args.out, results)}")


if __name__ == "__main__":
    main()
