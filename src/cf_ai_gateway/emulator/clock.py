"""The emulator's clock: wall time plus an offset that tests move forward instead of sleeping.

Cache expiry, rate-limit windows and log timestamps read this clock, so a test can call
``emulator.advance(301)`` and see a five-minute cache entry expire at once. A custom time source
(any zero-argument callable returning epoch seconds) can be injected instead of ``time.time``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Clock:
    """Epoch seconds from ``source`` plus a movable offset."""

    def __init__(self, source: Callable[[], float] | None = None) -> None:
        self._source = source or time.time
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current emulated time, in epoch seconds."""
        with self._lock:
            return self._source() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (which must not be negative)."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        """Drop any offset added by :meth:`advance`."""
        with self._lock:
            self._offset = 0.0
