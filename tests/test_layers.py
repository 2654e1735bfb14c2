"""The layers keep to their imports (DESIGN.md): control, planning and the executive never reach
into the simulator or the scenarios, so the same code drives a real robot through its port."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "laoshan"
SIMULATOR = ("mujoco", "laoshan.sim.body", "laoshan.sim.world", "laoshan.scenarios", "laoshan.sim.render",
             "laoshan.sim.scoring", "laoshan.sim.serve", "laoshan.sim.shared")
FORBIDDEN = {
    "brain": SIMULATOR,
    "cerebellum": SIMULATOR,
    "limbs": SIMULATOR,
    "executive": SIMULATOR,
    "fleet": SIMULATOR,
    "port": (*SIMULATOR, "laoshan.sim", "laoshan.brain", "laoshan.cerebellum", "laoshan.limbs", "laoshan.executive"),
}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_does_not_import_the_simulator(package: str) -> None:
    files = sorted((SRC / package).rglob("*.py"))
    assert files, f"no package {package}"
    bad = [f"{f.relative_to(SRC)} imports {name}" for f in files for name in sorted(_imports(f))
           if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[package])]
    assert not bad, "\n".join(bad)


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from laoshan.sim import body\n    import mujoco\n", encoding="utf-8")
    assert {"laoshan.sim.body", "mujoco"} <= _imports(sneaky)
