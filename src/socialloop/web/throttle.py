"""Sign-in throttling: after too many failed attempts for one account name, or from one client
address, further attempts are refused for a while (HTTP 429 with Retry-After).

Failures are counted in a sliding window per key (``name:<lower-case name>`` and
``addr:<client address>``); a success clears the name's count. The counter lives in the app
state (one per running app, in memory): a restart forgets it, which is acceptable for a brake on
password guessing, and nothing about it is stored.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_S = 15 * 60.0
MAX_PER_NAME = 5
MAX_PER_ADDRESS = 20


@dataclass
class LoginThrottle:
    """Failed sign-ins per key within ``window`` seconds; see the module docs."""

    window: float = WINDOW_S
    max_per_name: int = MAX_PER_NAME
    max_per_address: int = MAX_PER_ADDRESS
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, name: str, address: str) -> list[tuple[str, int]]:
        return [
            (f"name:{name.strip().lower()}", self.max_per_name),
            (f"addr:{address}", self.max_per_address),
        ]

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def retry_after(self, name: str, address: str) -> int:
        """Seconds until this name / address may try again (0: it may now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(name, address):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(wait, self.window - (now - times[-limit]))
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key, _limit in self._keys(name, address):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"name:{name.strip().lower()}", None)
