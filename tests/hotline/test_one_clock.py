"""Every decision reads the hotline's one clock (hotline.clock.utcnow), which tests set: no
production module reads the machine's wall clock itself."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AREAS = ("hotline", "ivr", "routing", "callbacks", "recordings", "dashboards")
# The one module that reads the machine's clock, for everyone.
THE_CLOCK = ROOT / "hotline" / "clock.py"
# Calls that read the wall clock: (the name called, the attribute). time.monotonic and
# time.perf_counter are left out: they measure intervals (a loop's pace), never a date or an hour.
WALL_CLOCK_READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
                    ("date", "today"), ("time", "time"), ("time", "time_ns"), ("time", "localtime"),
                    ("time", "gmtime"), ("time", "ctime"), ("time", "asctime"), ("func", "now"),
                    ("func", "current_timestamp"), ("func", "current_date"), ("func", "localtimestamp")}


def wall_clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, dotted call) of each wall-clock read in `source`: `datetime.now(...)`, `time.time()`,
    `sqlalchemy.func.now()` and the like, however the module was imported (`import time`,
    `from datetime import datetime`, `from time import time` as an alias included)."""
    tree = ast.parse(source)
    bare = {alias.asname or alias.name: (node.module.rpartition(".")[2], alias.name)
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if isinstance(called, ast.Attribute) and isinstance(called.value, (ast.Name, ast.Attribute)):
            owner = called.value.id if isinstance(called.value, ast.Name) else called.value.attr
            pair = (owner, called.attr)
        elif isinstance(called, ast.Name) and called.id in bare:
            pair = bare[called.id]
        else:
            continue
        if pair in WALL_CLOCK_READS:
            found.append((node.lineno, ".".join(pair)))
    return found


def test_the_finder_sees_every_way_of_reading_the_wall_clock():
    source = """
import time
import datetime as dt
from datetime import date, datetime, timezone
from time import time as seconds
from sqlalchemy import func
datetime.now(timezone.utc); dt.datetime.utcnow(); date.today(); time.time(); seconds(); func.now()
time.monotonic(); datetime.fromtimestamp(0, timezone.utc)
"""
    assert [call for _, call in wall_clock_reads(source)] == [
        "datetime.now", "datetime.utcnow", "date.today", "time.time", "time.time", "func.now"]


def test_no_production_module_reads_the_wall_clock_but_the_clock():
    offenders = []
    for area in AREAS:
        for path in sorted((ROOT / area).rglob("*.py")):
            if path == THE_CLOCK or "migrations" in path.parts:
                continue
            offenders += [f"{path.relative_to(ROOT)}:{line} {call}"
                          for line, call in wall_clock_reads(path.read_text(encoding="utf-8"))]
    assert offenders == [], "read hotline.clock.utcnow() instead:\n" + "\n".join(offenders)


def test_the_clock_reads_the_wall_clock():
    assert [call for _, call in wall_clock_reads(THE_CLOCK.read_text(encoding="utf-8"))] == ["datetime.now"]
