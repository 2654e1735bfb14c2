"""The parts catalog: TOML tables of component parameters, parsed into typed spec dataclasses.

A part is addressed by kind and id (``motor.g1-knee-139``). Every field is checked: a missing or
unknown key, a wrong type or a value outside its physical range raises :class:`CatalogError`
naming the part and the field.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from laoshan.components.actuator import MotorSpec
from laoshan.components.battery import BatterySpec
from laoshan.components.loop import LoopSpec
from laoshan.components.sensors import CameraSpec, EncoderSpec, ForceSpec, ImuSpec

T = TypeVar("T")


class CatalogError(ValueError):
    """A catalog file or a part in it is malformed; the message names the part and field."""


# Which dataclass describes each kind of part. Touch pads and foot pads share the force model.
SPEC_TYPES: dict[str, type] = {
    "motor": MotorSpec,
    "encoder": EncoderSpec,
    "imu": ImuSpec,
    "force": ForceSpec,
    "touch": ForceSpec,
    "camera": CameraSpec,
    "battery": BatterySpec,
    "controller": LoopSpec,
}


def parse_spec(cls: type[T], table: dict[str, Any], where: str) -> T:
    """Build spec dataclass ``cls`` from a TOML table, checking keys and types; ``where`` names it."""
    if not isinstance(table, dict):
        raise CatalogError(f"{where}: expected a table of fields, got {type(table).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise CatalogError(
            f"{where}: unknown field(s) {unknown}; known fields are {sorted(fields)} "
            "(units are part of each name, e.g. peak_torque_Nm)"
        )
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise CatalogError(f"{where}: missing field '{name}'")
            continue
        values[name] = _coerce(table[name], f.type, f"{where}.{name}")
    try:
        return cls(**values)
    except ValueError as exc:  # range checks in __post_init__
        raise CatalogError(f"{where}: {exc}") from None


def _coerce(value: Any, type_name: Any, where: str) -> Any:
    t = str(type_name)
    if t == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CatalogError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise CatalogError(f"{where}: expected an integer, got {value!r}")
        return value
    if t == "str":
        if not isinstance(value, str):
            raise CatalogError(f"{where}: expected a string, got {value!r}")
        return value
    if t.startswith("tuple[float"):
        if not isinstance(value, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
        ):
            raise CatalogError(f"{where}: expected a list of numbers, got {value!r}")
        return tuple(float(v) for v in value)
    raise CatalogError(f"{where}: unsupported field type {t}")  # pragma: no cover - schema bug


@dataclass(frozen=True)
class Catalog:
    """All parts, by kind then id."""

    parts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, kind: str, part_id: str) -> Any:
        """The spec of part ``kind.part_id``; a clear error lists what exists when it does not."""
        if kind not in SPEC_TYPES:
            raise CatalogError(f"unknown part kind '{kind}'; kinds are {sorted(SPEC_TYPES)}")
        table = self.parts.get(kind, {})
        if part_id not in table:
            raise CatalogError(f"unknown {kind} part '{part_id}'; the catalog has {sorted(table)}")
        return table[part_id]

    def kinds(self) -> list[str]:
        return [k for k in SPEC_TYPES if self.parts.get(k)]

    def merged(self, other: Catalog) -> Catalog:
        """This catalog with ``other``'s parts added (``other`` wins on the same id)."""
        parts = {k: dict(v) for k, v in self.parts.items()}
        for kind, table in other.parts.items():
            parts.setdefault(kind, {}).update(table)
        return Catalog(parts)


def parse_catalog(data: dict[str, Any], source: str) -> Catalog:
    """Parse a catalog from TOML data already read; ``source`` names it in errors."""
    parts: dict[str, dict[str, Any]] = {}
    for kind, table in data.items():
        if kind not in SPEC_TYPES:
            raise CatalogError(f"{source}: unknown part kind '{kind}'; kinds are {sorted(SPEC_TYPES)}")
        if not isinstance(table, dict):
            raise CatalogError(f"{source}: [{kind}] must hold tables of parts")
        parts[kind] = {
            pid: parse_spec(SPEC_TYPES[kind], ptable, f"{source}: {kind}.{pid}")
            for pid, ptable in table.items()
        }
    return Catalog(parts)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The stock catalog shipped with Laoshan, plus the parts in ``path`` if given."""
    stock_text = resources.files("laoshan.components").joinpath("catalog.toml").read_text()
    catalog = parse_catalog(tomllib.loads(stock_text), "catalog.toml")
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise CatalogError(f"{path}: not a catalog (not UTF-8 text)") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CatalogError(f"{path}: cannot read catalog: {exc}") from None
        catalog = catalog.merged(parse_catalog(data, str(path)))
    return catalog
