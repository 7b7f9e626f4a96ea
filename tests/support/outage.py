"""Redis out of the picture for a moment, as a web process in production sees it: killed (nothing
listens on its port: every command fails at once) or hung (it takes the connection and never
answers). The app's client is swapped for one made as the app makes its own (runtime.connect_redis)."""
from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from hotline import runtime
from tests.support.app import services_of

# Port 1 (tcpmux): nothing listens there, so every command fails at once with ConnectionError.
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"


@contextmanager
def redis_at(app, url: str) -> Iterator[None]:
    """While in the block, the app's Redis is the one at `url`; its own client is put back after,
    holding whatever it held before."""
    hotline = services_of(app)
    alive = hotline.redis
    hotline.redis = runtime.connect_redis(dataclasses.replace(hotline.settings, redis_url=url))
    try:
        yield
    finally:
        hotline.redis.close()
        hotline.redis = alive


@contextmanager
def redis_down(app, down: bool = True) -> Iterator[None]:
    """While in the block (if `down`), every Redis command of the app fails as with Redis killed."""
    if not down:
        yield
        return
    with redis_at(app, DEAD_REDIS_URL):
        yield


@contextmanager
def redis_hung(app) -> Iterator[None]:
    """While in the block, the app's Redis accepts connections and never answers (a Redis stopped
    with SIGSTOP, or stuck writing to a full disk): every command waits for its timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel completes handshakes; nobody ever reads or writes
        with redis_at(app, f"redis://127.0.0.1:{listener.getsockname()[1]}/0"):
            yield
