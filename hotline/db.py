"""Database engine and sessions: one engine per app, one session per request or job."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# Connection.info key: a statement other than a SELECT was sent in the connection's transaction.
_WROTE = "hotline.db.wrote"


def make_engine(url: str) -> Engine:
    """The engine; hide_parameters keeps bound values (caller numbers, notes) out of error logs."""
    if url.startswith("sqlite"):
        # Web threads and the in-process worker share the file; wait for its lock, don't fail.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True)
    event.listen(engine, "before_cursor_execute", _note_write)
    for ends in ("begin", "commit", "rollback"):
        event.listen(engine, ends, _forget_writes)
    return engine


def _note_write(conn, _cursor, statement: str, _parameters, _context, _executemany) -> None:
    # Anything but a plain SELECT counts as a write (a WITH that only reads costs a needless commit).
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[_WROTE] = True


def _forget_writes(conn) -> None:
    conn.info.pop(_WROTE, None)


def has_writes(session: Session) -> bool:
    """Whether committing `session` would write anything: ORM objects added, changed or deleted
    and not yet flushed, or a statement other than a SELECT already sent in its transaction (a Core
    UPDATE, a flush). False outside a transaction. A step that only read need not commit: closing
    the session ends its transaction (issue 11: a quiet wait poll commits nothing)."""
    if session.new or session.dirty or session.deleted:
        return True
    if not session.in_transaction():
        return False
    return bool(session.connection().info.get(_WROTE))


def dialect_insert(dialect: str):
    """The INSERT construct of `dialect` (a dialect's name: "postgresql" or "sqlite", the two
    backends Hotline runs on), for a statement that needs ON CONFLICT (on_conflict_do_nothing),
    which each has in its own construct. Raises ValueError for any other dialect."""
    inserts = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    if dialect not in inserts:
        raise ValueError(f"no INSERT ... ON CONFLICT for the {dialect} dialect")
    return inserts[dialect]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits, not the
    # database (SQLite's own advice for WAL). FULL waits for a disk flush at every commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class AppSession(Session):
    """The app's sessions (Database.sessions makes them): hotline.calls writes a step's call
    changes and journal when one commits, by a listener bound to this class, not to every Session
    of the process."""


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, class_=AppSession, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for a job or command: committed by the caller, always closed."""
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
