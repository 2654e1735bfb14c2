"""Plain-text tables and JSON result files carrying the machine's details."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A left-aligned text table; floats are shown with 3 significant decimals."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 1e4 else f"{v:.4g}"
        return str(v)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) if text else len(h) for i, h in enumerate(headers)]
    line = lambda cols: "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in text)])


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    import mujoco
    import numpy

    cpu = platform.processor() or ""
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
        "python": platform.python_version(), "mujoco": mujoco.__version__, "numpy": numpy.__version__,
        "commit": commit, "utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(path: str | Path, results: Any) -> Path:
    """Write ``{"machine": ..., "results": ...}`` to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine_info(), "results": results}, indent=2, default=float))
    return path


def benchmark_args(doc: str, name: str, quick_help: str, sections: Sequence[str] = (),
                   seeds: bool = False) -> argparse.Namespace:
    """The command line every campaign benchmark takes: ``--quick`` and ``--out``; with
    ``sections``, also ``--only NAME ...`` (run those alone: :func:`update_json`); with ``seeds``,
    ``--seeds N`` (report seeds 0..N-1 per figure)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--out", default=f"benchmarks/results/{name}.json", help="JSON output path")
    if seeds:
        parser.add_argument("--seeds", type=int, help="report seeds 0..N-1 per figure (default: the benchmark's own)")
    if sections:
        parser.add_argument("--only", nargs="+", choices=sections, metavar="NAME",
                            help=f"run only these and update them in the JSON file ({', '.join(sections)})")
    return parser.parse_args()


def update_json(path: str | Path, fresh: dict[str, Any]) -> Path:
    """Replace the entries ``fresh`` names in the results at ``path`` (sections re-run alone) and
    list them under ``reruns`` with the machine they ran on now; the other entries and the
    machine they ran on stay as they were."""
    path = Path(path)
    old = json.loads(path.read_text()) if path.exists() else {"machine": machine_info(), "results": {}}
    old["results"].update(fresh)
    old["results"].setdefault("reruns", []).append({"entries": sorted(fresh), **machine_info()})
    path.write_text(json.dumps(old, indent=2, default=float))
    return path
