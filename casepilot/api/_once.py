"""Each page form is sent once: a form carries a fresh key (``form_key``), and a second request
with a key already used is refused (409) instead of deciding, planning or starting twice — a
double click, a reload of a POST, a form sent again from the browser's history.

Keys are remembered per app, in memory, for the last ``LIMIT`` forms: one ``casepilot serve``
process (several processes behind a balancer would each remember their own). A request without
a key (a script, an older page) is served as before; a refused first attempt frees its key, so
the person can correct and send the same form again.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

__all__ = ["FormKeys", "new_form_key"]

LIMIT = 50_000


def new_form_key() -> str:
    return secrets.token_urlsafe(16)


class FormKeys:
    """The form keys used so far (the newest ``limit``), thread-safe."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._used: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def claim(self, key: str) -> bool:
        """Mark ``key`` used; False when it was used already (the form was sent before)."""
        with self._lock:
            if key in self._used:
                return False
            self._used[key] = None
            while len(self._used) > self._limit:
                self._used.popitem(last=False)
            return True

    def release(self, key: str) -> None:
        """Forget ``key`` (its request was refused and changed nothing: the form may be sent again)."""
        with self._lock:
            self._used.pop(key, None)
