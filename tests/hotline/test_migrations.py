"""The Alembic migrations build exactly the models' schema, and `hotline db upgrade` can run again."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, func, inspect, select

from hotline.cli import main
from hotline.migrate import alembic_config, upgrade
from hotline.models import Base, Language, Office, Topic


def _schema_differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_migrations_build_exactly_the_models_schema(app_config):
    """On each backend (a freshly migrated SQLite file, the session's migrated PostgreSQL)."""
    url = app_config["DATABASE_URL"]
    assert _schema_differences(url) == []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == _head()
            tables = set(inspect(connection).get_table_names())
            assert tables == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_on_a_new_sqlite_file_then_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    upgrade(url)
    assert _schema_differences(url) == []
    command.downgrade(alembic_config(url), "base")
    engine = create_engine(url)
    try:
        assert inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()
    upgrade(url)
    assert _schema_differences(url) == []


def test_the_schema_check_notices_a_difference(tmp_path):
    """The comparison above is not vacuous: a column the migrations lack is reported."""
    url = f"sqlite:///{tmp_path / 'drifted.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE calls ADD COLUMN colour VARCHAR(8)")
    finally:
        engine.dispose()
    differences = _schema_differences(url)
    assert [(d[0], d[3].name) for d in differences] == [("remove_column", "colour")]


def test_db_upgrade_command_is_idempotent(tmp_path):
    db_file = tmp_path / "cli.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db_file}", "HOTLINE_INSTANCE_PATH": str(tmp_path / "instance"),
           "REDIS_URL": "", "HOTLINE_CONFIG": None}
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["db", "upgrade"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "is up to date" in result.output

    url = f"sqlite:///{db_file}"
    assert _schema_differences(url) == []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == _head()
            assert set(connection.scalars(select(Office.code))) == {"sofia", "burgas"}
            assert connection.scalar(select(func.count()).select_from(Language)) == 7
            assert connection.scalar(select(func.count()).select_from(Topic)) == 6
    finally:
        engine.dispose()
