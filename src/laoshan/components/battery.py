"""Battery pack: open-circuit voltage against state of charge, internal resistance, BMS limits."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BatterySpec:
    """One catalog battery pack."""

    description: str
    cells_in_series: int
    capacity_Ah: float
    internal_resistance_ohm: float     # whole pack, DC
    max_discharge_current_A: float     # BMS over-current limit
    min_cell_voltage_V: float          # BMS under-voltage cut-off (loaded cell voltage)
    ocv_soc: tuple[float, ...]         # state-of-charge breakpoints, 0..1, increasing
    ocv_cell_V: tuple[float, ...]      # open-circuit cell voltage at each breakpoint [V]

    def __post_init__(self) -> None:
        if self.cells_in_series < 1:
            raise ValueError(f"cells_in_series must be >= 1, got {self.cells_in_series}")
        for name in ["capacity_Ah", "max_discharge_current_A", "min_cell_voltage_V"]:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.internal_resistance_ohm < 0:
            raise ValueError("internal_resistance_ohm must be >= 0")
        if len(self.ocv_soc) != len(self.ocv_cell_V) or len(self.ocv_soc) < 2:
            raise ValueError("ocv_soc and ocv_cell_V must be lists of the same length (>= 2)")
        if list(self.ocv_soc) != sorted(self.ocv_soc) or self.ocv_soc[0] != 0 or self.ocv_soc[-1] != 1:
            raise ValueError("ocv_soc must increase from 0 to 1")
        if max(self.ocv_cell_V) > 5.0:
            raise ValueError(f"ocv_cell_V holds {max(self.ocv_cell_V)} V: a cell voltage, not a pack's")

    @property
    def energy_Wh(self) -> float:
        """Nominal energy: capacity times the mean open-circuit pack voltage."""
        mean_cell_V = float(np.trapezoid(self.ocv_cell_V, self.ocv_soc))
        return self.capacity_Ah * mean_cell_V * self.cells_in_series


class BatteryLimitError(RuntimeError):
    """The BMS would cut the pack off: over-current or under-voltage."""


@dataclass
class BatteryState:
    """What the BMS reports (mirrors the G1 BmsState_ essentials)."""

    soc: float = 1.0          # state of charge, 0..1
    voltage_V: float = 0.0    # terminal voltage under load
    current_A: float = 0.0    # positive = discharge
    fault: str = ""           # "" or the BMS limit that tripped


class Battery:
    """A pack fed by the robot's electrical power draw, one step at a time."""

    def __init__(self, spec: BatterySpec, soc: float = 1.0) -> None:
        if not 0.0 <= soc <= 1.0:
            raise ValueError(f"initial soc must be in [0, 1], got {soc}")
        self.spec = spec
        self.state = BatteryState(soc=soc)
        self.energy_used_J = 0.0
        self.state.voltage_V = self.open_circuit_V(soc)

    def open_circuit_V(self, soc: float) -> float:
        """Open-circuit pack voltage [V] at state of charge ``soc``."""
        cell = float(np.interp(soc, self.spec.ocv_soc, self.spec.ocv_cell_V))
        return cell * self.spec.cells_in_series

    def current_for_power(self, power_W: float, soc: float) -> float:
        """Pack current [A] that delivers ``power_W`` at the terminals: P = (OCV - I R) I.

        Returns the smaller root; raises :class:`BatteryLimitError` if no current can deliver it.
        """
        ocv = self.open_circuit_V(soc)
        r = self.spec.internal_resistance_ohm
        if r == 0.0:
            return power_W / ocv
        disc = ocv * ocv - 4.0 * r * power_W
        if disc < 0.0:
            raise BatteryLimitError(f"pack cannot deliver {power_W:.0f} W (max {ocv * ocv / (4 * r):.0f} W)")
        return (ocv - math.sqrt(disc)) / (2.0 * r)

    def step(self, power_W: float, dt_s: float) -> BatteryState:
        """Draw ``power_W`` (negative = charging, e.g. regeneration) for ``dt_s``."""
        s = self.state
        try:
            current = self.current_for_power(power_W, s.soc)
        except BatteryLimitError as exc:
            s.fault = str(exc)
            return s
        s.current_A = current
        s.voltage_V = self.open_circuit_V(s.soc) - current * self.spec.internal_resistance_ohm
        s.soc = min(1.0, max(0.0, s.soc - current * dt_s / (3600.0 * self.spec.capacity_Ah)))
        self.energy_used_J += power_W * dt_s
        if current > self.spec.max_discharge_current_A:
            s.fault = f"over-current {current:.1f} A > {self.spec.max_discharge_current_A:.1f} A"
        elif s.voltage_V < self.spec.min_cell_voltage_V * self.spec.cells_in_series:
            s.fault = f"under-voltage {s.voltage_V:.1f} V"
        return s

    def runtime_estimate_s(self, mean_power_W: float) -> float:
        """Time to empty [s] at ``mean_power_W``, from the energy left in the pack."""
        if mean_power_W <= 0.0:
            return math.inf
        soc_grid = np.linspace(0.0, self.state.soc, 50)
        cell = np.interp(soc_grid, self.spec.ocv_soc, self.spec.ocv_cell_V)
        energy_left_J = float(np.trapezoid(cell, soc_grid)) * self.spec.cells_in_series * self.spec.capacity_Ah * 3600.0
        return energy_left_J / mean_power_W
