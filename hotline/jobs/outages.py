"""Redis and the database going away and coming back, as a long-running loop of Hotline sees them
(`hotline worker`, the in-process worker of `hotline run`): no loop ends because of it. Each waits
with backoff (Backoff), the process logs each outage once when a loop first meets it and once when
it ends (Dependency), and the loop carries on where it was.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

REDIS = "Redis"
DATABASE = "Database"
# Seconds between attempts to reach a dependency that is away: from FIRST_RETRY, doubled, at most
# MAX_RETRY (so work resumes within MAX_RETRY seconds of its return).
FIRST_RETRY = 0.5
MAX_RETRY = 5.0

Probe = Callable[[], "BaseException | None"]


class Backoff:
    """The seconds to wait before each retry of one loop: `first`, doubled after each, at most `cap`."""

    def __init__(self, first: float = FIRST_RETRY, cap: float = MAX_RETRY):
        self.first, self.cap, self._next = first, cap, first

    def next(self) -> float:
        """The wait before the next retry (seconds); the one after is twice as long, up to the cap."""
        wait, self._next = self._next, min(self.cap, self._next * 2)
        return wait

    def reset(self) -> None:
        """The dependency answered: the next outage starts from `first` again."""
        self._next = self.first


class Dependency:
    """Redis or the database as the threads of one process see it. `probe()` returns None when it
    answers, else the error. The first failure of an outage is logged (a warning) and its end
    (info, with its length), once each whichever thread meets them; the errors in between are not."""

    def __init__(self, name: str, probe: Probe):
        self.name, self.probe = name, probe
        self._lock = threading.Lock()
        self._since: float | None = None  # time.monotonic() when the outage began

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        """A thread met `error` from this dependency."""
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning("%s unreachable (%s): waiting for it, retrying with backoff up to %s s",
                    self.name, reason(error), MAX_RETRY)

    def answered(self) -> None:
        """A thread was answered by this dependency."""
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.info("%s reachable again after %.0f s", self.name, time.monotonic() - since)

    def check(self) -> bool:
        """Probe it once; returns True if it answered (failed() or answered() is called)."""
        error = self.probe()
        if error is None:
            self.answered()
            return True
        self.failed(error)
        return False

    def wait(self, stop: threading.Event, backoff: Backoff) -> bool:
        """Wait until it answers (probing after each of `backoff`'s waits) or `stop` is set.
        Returns True if it answered."""
        while not stop.wait(backoff.next()):
            if self.check():
                backoff.reset()
                return True
        return False


def reason(error: BaseException) -> str:
    """What to log of `error`: its type, and for a connection that failed its message (host, port
    and errno; a statement's error message may hold caller data, so no other message is logged)."""
    if isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__


def redis_probe(client: redis.Redis) -> Probe:
    """A probe of Redis: PING through `client`."""

    def probe() -> BaseException | None:
        try:
            client.ping()
        except redis.RedisError as error:
            return error
        return None

    return probe


def database_probe(engine: Engine) -> Probe:
    """A probe of the database: `SELECT 1` on a connection of `engine`'s pool (or a new one)."""

    def probe() -> BaseException | None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            return error
        return None

    return probe
