"""RQ's worker loop as Hotline runs it (`hotline worker`, and in bursts `hotline run`): one
`work_round` is one RQ worker, registered in Redis, taking jobs until it is stopped or Redis, or
the database a job needs, stops answering; then it ends quietly and says which (DependencyAway),
for its caller to wait for that dependency (hotline.jobs.outages) and start the next round.
"""
from __future__ import annotations

import threading
import time

import redis
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from sqlalchemy.exc import InterfaceError, OperationalError

from hotline.jobs.outages import DATABASE, REDIS, Probe
from hotline.runtime import QUEUE_NAME


class DependencyAway(StopRequested):
    """Redis or the database stopped answering while RQ's loop ran: raised inside the loop, which
    ends quietly on StopRequested (RQ's own retries log every attempt and never register the
    worker again in a Redis that came back empty); work_round's caller then waits for `dependency`."""

    def __init__(self, dependency: str, error: BaseException):
        super().__init__(f"{dependency} unreachable")
        self.dependency, self.error = dependency, error


class ListeningQueue(Queue):
    """The queue as HotlineWorker waits on it: a connection lost while waiting ends RQ's loop."""

    @classmethod
    def dequeue_any(cls, *args, **kwargs):
        try:
            return super().dequeue_any(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise DependencyAway(REDIS, error) from error


class HotlineWorker(SimpleWorker):
    """RQ's SimpleWorker that tells `serve` when SIGTERM or SIGINT asked it to stop, and ends its
    loop when Redis, or the database a job needs, stops answering (`away`, a DependencyAway).
    `commands`: whether it listens for RQ's commands (rq.command), on a thread of its own."""

    # RQ waits up to 60 s between attempts to reach Redis; after an outage, jobs would wait that long.
    max_connection_wait_time = 5.0
    queue_class = ListeningQueue
    stopping: threading.Event
    away: DependencyAway | None = None
    commands = True

    def __init__(self, *args, database: Probe | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.database = database
        self.push_exc_handler(self._note_database_away)

    def request_stop(self, signum, frame):
        self.stopping.set()
        super().request_stop(signum, frame)

    def _install_signal_handlers(self):
        super()._install_signal_handlers()
        if self.stopping.is_set():  # the signal came before RQ's handlers were in place
            self._stop_requested = True

    def execute_job(self, job, queue):
        # Redis gone while a job ran: RQ's bookkeeping at its end fails, and RQ's loop would log
        # that as an unhandled exception. The job's result is lost; jobs are hints (the sweeps).
        try:
            super().execute_job(job, queue)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise DependencyAway(REDIS, error) from error

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        # RQ's loop calls this (without a pipeline) before each wait for a job and after each job.
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        if self.away is not None:
            raise self.away
        try:
            return super().heartbeat(timeout)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise DependencyAway(REDIS, error) from error

    def _note_database_away(self, job, exc_type, exc_value, traceback) -> bool:
        # A job that failed on a database error: if the database does not answer, take no more
        # jobs (each would fail, and be lost) until it does. Jobs are hints: the sweeps redo theirs.
        if isinstance(exc_value, (OperationalError, InterfaceError)) and self.database is not None:
            error = self.database()
            if error is not None:
                self.away = DependencyAway(DATABASE, error)
        return True  # the next handler (RQ's) logs the job's failure

    def subscribe(self):
        # RQ's own thread waits 60 s for each command, and redis-py 8 joins it at teardown, so a
        # stop waited up to 60 s (each burst of `hotline run`'s worker too: it now listens for
        # none). A wait of a second costs nothing.
        if not self.commands:
            return
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1.0, daemon=True,
                                                       exception_handler=_commands_failed)

    def unsubscribe(self):
        if self.pubsub_thread is None:
            return
        try:
            self.pubsub.unsubscribe()
        except redis.RedisError:
            pass  # Redis is away: the thread stops all the same
        self.pubsub_thread.stop()
        self.pubsub_thread.join(timeout=2)
        self.pubsub.close()
        self.pubsub_thread = None

    def teardown(self):
        # RQ's stops at the first Redis error, leaving the commands thread running for ever.
        for step in (self.register_death, self.unsubscribe):
            try:
                step()
            except redis.RedisError as error:
                self.away = self.away or DependencyAway(REDIS, error)


def _commands_failed(error: BaseException, pubsub, thread) -> None:
    # The thread reading RQ's commands met an error. Redis away: the worker's loop says so and
    # ends; this waits a second (the thread stops when the loop ends). Anything else ends it.
    if not isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
        raise error
    time.sleep(1.0)


def listening_connection(client: redis.Redis) -> redis.Redis:
    """A client of the same Redis as `client`, with a pool of its own, for RQ's worker loop. RQ
    waits for the next job in one blocking BLPOP of minutes and raises its pool's socket timeout
    to match; `client` (the app's, which jobs use) must keep its REDIS_TIMEOUT, and with it the
    wait timed out every second, was logged as a Redis error and slept up to
    HotlineWorker.max_connection_wait_time seconds before listening again."""
    pool = client.connection_pool
    kwargs = {key: value for key, value in pool.connection_kwargs.items() if key != "socket_timeout"}
    return redis.Redis(connection_pool=type(pool)(connection_class=pool.connection_class, **kwargs))


def work_round(connection: redis.Redis, stop: threading.Event, database: Probe | None,
               burst: bool) -> DependencyAway | None:
    """One RQ worker, registered in Redis, runs the queue's jobs through `connection` until `stop`
    (or, with `burst`, until the queue is empty). Returns why it ended if a dependency went away
    (`database` probes the database after a job failed on it), else None."""
    try:
        worker = HotlineWorker([ListeningQueue(QUEUE_NAME, connection=connection)], connection=connection,
                               database=database)
        worker.stopping = stop
        worker.commands = not burst
        worker.work(burst=burst, logging_level="WARNING" if burst else "INFO")
    except redis.RedisError as error:  # CLIENT SETNAME, registering the worker: before RQ's loop
        return DependencyAway(REDIS, error)
    return worker.away
