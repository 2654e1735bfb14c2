"""Fuzzing the body contract: random commands of every kind, and the contract written out plainly
to judge them by (independently of :func:`laoshan.port.messages.check_low_cmd`, which it checks)."""

from __future__ import annotations

import numpy as np

from laoshan.port.messages import CommandLimits, LowCmd, MotorCmds

KINDS = ("valid", "edge", "non_finite", "out_of_range", "wrong_type", "not_a_command")


def contract_holds(cmd: object, limits: CommandLimits) -> bool:
    """What the drivers must accept, field by field: a ``LowCmd`` with integer ``mode_pr`` (0 or 1)
    and ``mode_machine``; every motor field an array, list or tuple of one real number per motor
    (``mode`` integers 0 or 1); every number finite; targets within the joint limits widened by the
    margin, speed targets within the no-load speed, gains and feed-forward within the part's limits."""
    if not isinstance(cmd, LowCmd) or not isinstance(cmd.motor_cmd, MotorCmds):
        return False
    for value, allowed in ((cmd.mode_pr, (0, 1)), (cmd.mode_machine, None)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or (allowed and value not in allowed):
            return False
    arrays = {}
    for name in ("mode", "q", "dq", "kp", "kd", "tau"):
        value = getattr(cmd.motor_cmd, name)
        if not isinstance(value, np.ndarray | list | tuple):
            return False
        try:
            array = np.asarray(value)
        except Exception:  # noqa: BLE001 (a list numpy cannot take is simply not a command)
            return False
        if array.shape != (limits.n,) or array.dtype.kind not in ("iu" if name == "mode" else "iuf"):
            return False
        arrays[name] = array.astype(float)
    q, dq, kp, kd, tau = (arrays[k] for k in ("q", "dq", "kp", "kd", "tau"))
    margin = limits.q_margin_rad
    with np.errstate(invalid="ignore"):
        return bool(np.isin(arrays["mode"], (0, 1)).all()
                    and np.isfinite(np.concatenate([q, dq, kp, kd, tau])).all()
                    and ((q >= limits.q_min_rad - margin) & (q <= limits.q_max_rad + margin)).all()
                    and (np.abs(dq) <= limits.dq_max_rad_s).all() and (np.abs(tau) <= limits.tau_max_Nm).all()
                    and ((kp >= 0) & (kp <= limits.kp_max)).all() and ((kd >= 0) & (kd <= limits.kd_max)).all())


def random_command(rng: np.random.Generator, limits: CommandLimits, kind: str) -> object:
    """A command of ``kind`` (one of ``KINDS``): ``valid`` draws every field uniformly within the
    contract; ``edge`` puts values on and just beyond its bounds; ``non_finite`` and ``out_of_range``
    spoil some numbers; ``wrong_type`` some fields' types, shapes or dtypes; ``not_a_command``
    sends something else altogether."""
    n = limits.n
    lo, hi = limits.q_min_rad - limits.q_margin_rad, limits.q_max_rad + limits.q_margin_rad
    rows = {"q": rng.uniform(lo, hi), "dq": rng.uniform(-1, 1, n) * limits.dq_max_rad_s,
            "kp": rng.uniform(0, 1, n) * limits.kp_max, "kd": rng.uniform(0, 1, n) * limits.kd_max,
            "tau": rng.uniform(-1, 1, n) * limits.tau_max_Nm}
    mode = rng.integers(0, 2, n).astype(np.int8) if rng.random() < 0.3 else np.ones(n, np.int8)
    pick = rng.integers(0, n, size=rng.integers(1, 4))
    if kind == "edge":
        bounds = {"q": (lo, hi), "dq": (-limits.dq_max_rad_s, limits.dq_max_rad_s), "kp": (np.zeros(n), limits.kp_max),
                  "kd": (np.zeros(n), limits.kd_max), "tau": (-limits.tau_max_Nm, limits.tau_max_Nm)}
        name = str(rng.choice(list(bounds)))
        edge = bounds[name][int(rng.integers(0, 2))][pick]
        rows[name][pick] = edge + rng.choice([-1e-9, 0.0, 1e-9, -1e-3, 1e-3]) * np.maximum(1.0, np.abs(edge))
    elif kind == "non_finite":
        rows[str(rng.choice(list(rows)))][pick] = rng.choice([np.nan, np.inf, -np.inf])
    elif kind == "out_of_range":
        name = str(rng.choice(list(rows)))
        rows[name][pick] = rng.choice([-1, 1]) * 10.0 ** rng.uniform(0, 12)
        if rng.random() < 0.2:
            mode[pick] = rng.integers(2, 100)
    cmd = LowCmd(MotorCmds(mode, rows["q"], rows["dq"], rows["tau"], rows["kp"], rows["kd"]))
    if kind == "wrong_type":
        spoilt = [lambda: None, lambda: "1.0", lambda: rows["q"][:-1], lambda: np.append(rows["q"], 0.0),
                  lambda: rows["q"].astype(complex), lambda: rows["q"].astype(str), lambda: rows["q"].reshape(1, n),
                  lambda: rows["q"].astype(bool), lambda: list(rows["q"][:-1]) + ["x"], lambda: float(rng.random()),
                  lambda: [[0.0] * 2, [0.0]], lambda: {"q": rows["q"]}]
        field = str(rng.choice(["mode", "q", "dq", "kp", "kd", "tau", "mode_pr", "mode_machine", "motor_cmd"]))
        value = spoilt[int(rng.integers(0, len(spoilt)))]()
        if field in ("mode_pr", "mode_machine", "motor_cmd"):
            setattr(cmd, field, value if rng.random() < 0.8 else int(rng.integers(2, 9)))
        else:
            setattr(cmd.motor_cmd, field, value)
    elif kind == "not_a_command":
        return ["stand", 42, rows, cmd.motor_cmd, b"\x00" * 8, object()][int(rng.integers(0, 6))]
    return cmd
