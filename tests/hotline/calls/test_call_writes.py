"""One write path for calls: a call and its journal are changed only through hotline.calls.

An AST scan of the production packages (those pyproject installs; hotline.calls itself and the
migrations, which shape the tables, are left out) fails on:
- a Call or CallEvent built (`Call(...)`, `CallEvent(...)`, `models.CallEvent(...)`): a call is
  opened by calls.open_call / open_placed_call, an event journalled by calls.journal;
- a statement on the calls or call_events tables (`update(Call)`, `insert(CallEvent)`,
  `delete(...)`, the same with `Call.__table__`), or any use of their `__table__`;
- SQL text that writes them (`UPDATE calls`, `INSERT INTO call_events`, `DELETE FROM calls`);
- an assignment to a call's column the ORM's way (`call.stage = ...`): to an attribute that only
  Call has (stage, twilio_status, ...), or to any of Call's columns on a name that says it holds a
  call (`call`, `returned`, `*_call`).

What it cannot see: an assignment to a column other models share (outcome, answered_at, ...) on a
call held under another name, setattr() with a computed name, `call.events.append(...)`, a
session.delete(call), or a write through a function that takes the table as a value. The last
two are not in the code today; the first is why every assignment the scan found was rewritten
as calls.change."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from hotline.models import Base, Call

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("hotline", "ivr", "routing", "callbacks", "recordings", "dashboards")
OWNER = ROOT / "hotline" / "calls"
LEFT_OUT = (OWNER, ROOT / "hotline" / "migrations")

MODELS = {"Call", "CallEvent"}
STATEMENTS = {"update", "insert", "delete"}
WRITING_SQL = re.compile(r"\b(update|insert\s+into|delete\s+from)\s+\"?(calls|call_events)\b", re.IGNORECASE)
CALL_COLUMNS = {column.key for column in Call.__table__.columns}
OTHER_COLUMNS = {column.key for mapper in Base.registry.mappers if mapper.class_ is not Call
                 for column in mapper.columns}
CALL_ONLY = CALL_COLUMNS - OTHER_COLUMNS
CALL_NAMES = re.compile(r"^(call|returned|\w+_call)$")


def _name(node: ast.AST) -> str | None:
    """The last part of a (dotted) name: `Call` for `Call` and `models.Call`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_model(node: ast.AST) -> bool:
    """`Call`, `CallEvent`, or their `__table__`."""
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        return _name(node.value) in MODELS
    return _name(node) in MODELS


def _findings(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called in MODELS:
                found.append((node.lineno, f"builds a {called}"))
            elif called in STATEMENTS and node.args and _is_model(node.args[0]):
                found.append((node.lineno, f"{called}() of {ast.unparse(node.args[0])}"))
        elif isinstance(node, ast.Attribute) and node.attr == "__table__" and _name(node.value) in MODELS:
            found.append((node.lineno, f"uses {ast.unparse(node)}"))
        elif isinstance(node, ast.Constant) and WRITING_SQL.search(str(node.value)):
            found.append((node.lineno, f"SQL writing a call table: {node.value[:40]!r}"))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [(node.lineno, f"assigns {ast.unparse(target)}") for target in targets
                      if _assigns_a_call_column(target)]
    return found


def _assigns_a_call_column(target: ast.AST) -> bool:
    if not isinstance(target, ast.Attribute):
        return False
    holder = _name(target.value) or ""
    return target.attr in CALL_ONLY or (target.attr in CALL_COLUMNS and bool(CALL_NAMES.match(holder)))


def _production_modules() -> list[Path]:
    return [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
            if not any(path.is_relative_to(left) for left in LEFT_OUT)]


def test_only_hotline_calls_writes_calls_and_their_journal():
    offences = [f"{path.relative_to(ROOT)}:{line}: {what}" for path in _production_modules()
                for line, what in _findings(ast.parse(path.read_text(), str(path)))]
    assert offences == [], "change calls through hotline.calls:\n" + "\n".join(offences)


def test_the_scan_sees_each_kind_of_write():
    """The scan itself: each way of writing a call it claims to catch is caught."""
    source = """
session.add(CallEvent(call_id=1, kind="x"))
models.Call(call_sid="CA1")
session.execute(update(Call).where(Call.id == 1).values(stage="x"))
session.execute(insert(CallEvent.__table__), rows)
session.execute(text("UPDATE calls SET stage = 'x'"))
call.outcome = "closed"
other.stage = "queued"
returned.answered_at = now
attempt.outcome = "failed"
"""
    lines = sorted(line for line, _ in _findings(ast.parse(source)))
    assert lines == [2, 3, 4, 5, 5, 6, 7, 8, 9]  # not attempt.outcome (line 10)


def test_a_call_only_column_is_one_no_other_model_has():
    assert {"stage", "twilio_status", "talk_seconds"} <= CALL_ONLY
    assert "outcome" not in CALL_ONLY and "answered_at" not in CALL_ONLY
