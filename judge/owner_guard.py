"""What keeps guessers off the owner pages: a secret worth guessing against, and a per-client back-off.

A wrong-secret counter shared by the whole server let anyone keep the real owner out with 20 tries a minute.
`SignInThrottle` counts wrong secrets per client instead: after FREE_TRIES a client waits 2, 4, 8 ...
seconds (at most MAX_WAIT) before its next try, and a right secret clears its count. Other clients, and
sessions already signed in, are not affected. It slows one guesser; against many addresses only a secret
with real entropy helps, so `secret_problem` refuses short, blank or repetitive ones.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, OrderedDict
from typing import Callable

MIN_SECRET_CHARS = 12
MIN_SECRET_BITS = 48.0


def secret_bits(secret: str) -> float:
    """A rough strength estimate: Shannon entropy of the characters used, times the length. Repeats and
    small alphabets score low ("aaaaaaaaaaaa" 0, "abababababab" 12); token_urlsafe(24) scores about 140."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * len(secret)


def secret_problem(secret: str, *, name: str = "The owner secret") -> str | None:
    """Why `secret` is too weak to protect the owner pages, or None."""
    advice = "use a long random one, e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))'."
    if len(secret.strip()) < MIN_SECRET_CHARS:
        return f"{name} is shorter than {MIN_SECRET_CHARS} characters (spaces aside); {advice}"
    if secret_bits(secret) < MIN_SECRET_BITS:
        bits = secret_bits(secret)
        return f"{name} is too predictable (about {bits:.0f} bits, {MIN_SECRET_BITS:.0f} needed); {advice}"
    return None


class SignInThrottle:
    """Wrong owner secrets per client, with exponential back-off; thread-safe, bounded in memory."""

    FREE_TRIES = 5
    BASE_WAIT = 2.0
    MAX_WAIT = 900.0
    FORGET_AFTER = 3600.0
    MAX_CLIENTS = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: OrderedDict[str, tuple[int, float]] = OrderedDict()  # client -> (failures, last failure)

    def wait(self, client: str) -> float:
        """Seconds before `client` may try a secret again; 0 when it may now."""
        with self._lock:
            failures, last = self._clients.get(client, (0, 0.0))
        if failures < self.FREE_TRIES:
            return 0.0
        delay = min(self.MAX_WAIT, self.BASE_WAIT * 2 ** (failures - self.FREE_TRIES))
        return max(0.0, last + delay - self._clock())

    def failed(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            failures, last = self._clients.pop(client, (0, now))
            if now - last > self.FORGET_AFTER:
                failures = 0
            self._clients[client] = (failures + 1, now)
            while len(self._clients) > self.MAX_CLIENTS:
                self._clients.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)
