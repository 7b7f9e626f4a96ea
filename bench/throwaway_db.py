"""A throwaway PostgreSQL database for a benchmark run, shared by the bench scripts."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A new database on the server of `url`, dropped at the end whatever happens."""
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
