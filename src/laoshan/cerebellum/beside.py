"""Slow work (a task plan, an arm path) done beside the control loop, never inside a tick.

On a real-time robot port (DDS) the work runs in a worker thread while the loop keeps ticking:
the interpreter's switch interval is shortened to 0.5 ms, so the loop gets the interpreter back
within a quarter of its 2 ms period however busy the worker is. On the in-process simulator,
whose clock waits for the computer, the work runs at once: no simulated time passes while it
runs, so the robot is not kept waiting either, and a seed's run stays reproducible.
"""

import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
SWITCH_INTERVAL_S = 0.0005


class Beside(Generic[T]):
    """``work()`` run beside the loop; poll :attr:`done`, then take :meth:`result`."""

    def __init__(self, work: Callable[[], T], threaded: bool) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        if threaded:
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
            threading.Thread(target=self._run, args=(work,), name="laoshan-beside", daemon=True).start()
        else:
            self._run(work)

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._value = work()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever takes the result
            self._error = exc
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def result(self) -> T:
        """The work's value (raises what the work raised); call once :attr:`done`."""
        if not self._done.is_set():
            raise RuntimeError("the work beside the loop has not finished")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
