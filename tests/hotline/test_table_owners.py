"""Each table has one owner, and only its owner writes it (issue 18, "One write path per
aggregate"): calls and their journal are written only by hotline.calls, consultation records only
by hotline.records (a phone call's record too: the close runs the INSERT hotline.records builds),
the audit log only by hotline.accounts (the staff web's logins call accounts.audit), queue entries
only by routing.queues, callbacks and their attempts only by the callbacks area, consultants'
status only by routing.reservation and the rest of a staff row only by hotline.accounts, the
reference tables (offices, languages, topics) only by hotline.models.reference's sync_reference
from the catalogue (OWNERS, COLUMN_OWNERS). Every table of hotline.models has its owner declared
here, or a test fails. The test
reads the production code (every area, the core and the demo's seeding in hotline.dev; not tests,
bench or migrations) with Python's ast module, without importing or running it, and fails naming
the module, line and table of every write it finds outside the table's owner.

What it sees, in every function and at module level:
- insert(X), update(X), delete(X) (sqlalchemy's, a dialect's insert, or any callable bound to the
  name insert/update/delete), where X is a model class, Model.__table__, or a local name bound to
  either in the same function;
- Model(...) passed to session.add / add_all (directly, in a list, tuple or comprehension, or
  through a local name it was bound to in the same function), and session.delete of an instance;
- assignments to an attribute of an instance whose model it can tell: a parameter annotated with
  the model, or a local name bound to Model(...), session.get(Model, ...), session.get_one(Model,
  ...) or session.scalar(select(Model)...); also setattr(instance, "column", value); and, whatever
  the object, assignments to a column of one model only with a name of more than one word
  (wrap_up_until, idle_since: _distinctive_columns);
- SQL written out in a string (INSERT INTO / UPDATE / DELETE FROM the table).
For a table owned column by column (staff: status by routing.reservation, the rest by
hotline.accounts) a write counts against the owners of the columns it names (.values(...), a
constructor's keywords); one whose columns cannot be told (**keywords) against all of them, unless
its module owns some: then it is taken for its own.

What it cannot see: an instance whose model is not written where it is bound (returned by a
helper, read from a relationship, taken from a list, an unannotated parameter), so its attribute
assignments; statements built in one function and run in another when the table reaches them
through anything but a local name (a dict, an attribute, a function's result); rows created by
an ORM relationship's cascade (parent.children.append(Model(...)) reaches the session that way);
SQL strings built piece by piece; and code that imports a writer under another name. So it never
sees staff_skills written (hotline.accounts sets staff.skills, a relationship: NOT_SEEN), nor the
record and journal the demo's history adds through a call built by hotline.calls.past_call and
hotline.records.past_record. hotline.calls has a test of its own as well (test_call_writes), which
also looks at assignments to a call's columns on names that say they hold a call.
"""
from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.models import Staff
from hotline.models.base import Base

ROOT = Path(__file__).resolve().parents[2]
# The production packages, and what in them is not production code run against the database.
PRODUCTION = ("hotline", "ivr", "routing", "callbacks", "dashboards", "recordings")
NOT_SCANNED = ("hotline/migrations/",)

STAFF_STATUS = ("status", "status_since", "idle_since", "current_call_sid", "wrap_up_until")
# table -> the modules (dotted names; a package stands for all its modules) that may write it.
OWNERS: dict[str, tuple[str, ...]] = {
    "calls": ("hotline.calls",),
    "call_events": ("hotline.calls",),
    "consultation_records": ("hotline.records",),
    "audit_events": ("hotline.accounts",),
    "queue_entries": ("routing.queues",),
    "callbacks": ("callbacks",),
    "callback_attempts": ("callbacks",),
    "staff_skills": ("hotline.accounts",),
    "api_tokens": ("hotline.accounts",),
    "offices": ("hotline.models.reference",),
    "languages": ("hotline.models.reference",),
    "topics": ("hotline.models.reference",),
}
# Tables whose owner's writes the scan cannot see (so test_the_scan_sees_every_table skips them): why.
NOT_SEEN = {"staff_skills": "hotline.accounts assigns staff.skills, an ORM relationship"}
# (table, column) -> owners, for a table whose columns have different owners.
COLUMN_OWNERS: dict[tuple[str, str], tuple[str, ...]] = {
    **{("staff", column.name): ("hotline.accounts",) for column in Staff.__table__.columns
       if column.name not in STAFF_STATUS},
    **{("staff", column): ("routing.reservation",) for column in STAFF_STATUS},
}
WRITE_CALLS = {"insert", "update", "delete"}


def _tables() -> dict[str, str]:
    """Model class name -> its table's name, for every mapped model."""
    return {mapper.class_.__name__: mapper.local_table.name for mapper in Base.registry.mappers}


@dataclass(frozen=True)
class Write:
    module: str
    line: int
    table: str
    how: str
    columns: tuple[str, ...] | None = None  # None: the columns cannot be told (all may be written)

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.how} writes {self.table}"


class _Scanner(ast.NodeVisitor):
    """The writes of one module (see the module's docstring for what is seen)."""

    def __init__(self, module: str, tables: dict[str, str]) -> None:
        self.module, self.tables = module, tables
        self.distinctive = _distinctive_columns()
        self.writes: list[Write] = []
        # name -> ("class" | "instance", model, columns its constructor here names: None if unknown)
        self.scopes: list[dict[str, _Bound]] = [{}]

    # -- names -----------------------------------------------------------------------------------
    def _bound(self, name: str) -> _Bound | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def _model_of(self, node: ast.AST) -> str | None:
        """The model a table expression names: Model, Model.__table__, or a name bound to either."""
        if isinstance(node, ast.Name):
            if node.id in self.tables:
                return node.id
            bound = self._bound(node.id)
            return bound[1] if bound and bound[0] == "class" else None
        if isinstance(node, ast.Attribute) and node.attr == "__table__":
            return self._model_of(node.value)
        return None

    def _instance_of(self, node: ast.AST) -> str | None:
        """The model of the instance an expression gives, when it can be told."""
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in self.tables:
                return node.func.id
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "get_one") and node.args:
                return self._model_of(node.args[0])
            if isinstance(node.func, ast.Attribute) and node.func.attr == "scalar" and node.args:
                return self._selected_model(node.args[0])
        if isinstance(node, ast.Name):
            bound = self._bound(node.id)
            return bound[1] if bound and bound[0] == "instance" else None
        return None

    def _selected_model(self, node: ast.AST) -> str | None:
        """Model for select(Model) at the root of a chain of .where(...).order_by(...) calls."""
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "select":
            return self._model_of(node.args[0]) if len(node.args) == 1 else None
        return None

    def _bind(self, target: ast.AST, value: ast.AST) -> None:
        if not isinstance(target, ast.Name):
            return
        model = self._model_of(value) if not isinstance(value, ast.Call) else None
        instance = self._instance_of(value)
        if instance:
            made = self._constructed(value)
            self.scopes[-1][target.id] = ("instance", instance, () if made is None else _keywords(made))
        elif model:
            self.scopes[-1][target.id] = ("class", model, None)
        else:
            self.scopes[-1].pop(target.id, None)

    # -- scopes ----------------------------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        scope: dict[str, _Bound] = {}
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            model = self._annotated_model(arg.annotation)
            if model:
                scope[arg.arg] = ("instance", model, ())
        self.scopes.append(scope)
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _annotated_model(self, annotation: ast.AST | None) -> str | None:
        """Staff for `staff: Staff`, `staff: Staff | None` or `staff: "Staff"`."""
        if annotation is None:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            names = re.findall(r"\w+", annotation.value)
        else:
            names = [n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)]
        models = [name for name in names if name in self.tables]
        return models[0] if len(models) == 1 else None

    # -- writes ----------------------------------------------------------------------------------
    def _write(self, node: ast.AST, model: str, how: str, columns: tuple[str, ...] | None) -> None:
        self.writes.append(Write(self.module, node.lineno, self.tables[model], how, columns))

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        for target in node.targets:
            self._assigned(target)
            self._bind(target, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.generic_visit(node)
        self._assigned(node.target)
        if node.value is not None:
            self._bind(node.target, node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.generic_visit(node)
        self._assigned(node.target)

    def _assigned(self, target: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._assigned(element)
        elif isinstance(target, ast.Attribute):
            model = self._instance_of(target.value) or self.distinctive.get(target.attr)
            if model:
                self._write(target, model, f"{ast.unparse(target)} =", (target.attr,))

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else (
            node.func.attr if isinstance(node.func, ast.Attribute) else None)
        model = self._model_of(node.args[0]) if name in WRITE_CALLS and len(node.args) == 1 else None
        if model:
            self._write(node, model, f"{name}({ast.unparse(node.args[0])})", _values_of(node))
        elif name in ("add", "add_all", "delete") and isinstance(node.func, ast.Attribute) and node.args:
            for model, columns in self._instances_in(node.args[0]):
                self._write(node, model, f"session.{name}", None if name == "delete" else columns)
        elif name == "setattr" and len(node.args) == 3 and isinstance(node.args[1], ast.Constant):
            model = self._instance_of(node.args[0])
            if model:
                self._write(node, model, "setattr", (str(node.args[1].value),))

    def _constructed(self, node: ast.AST) -> ast.Call | None:
        """The call if `node` is Model(...)."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.tables:
            return node
        return None

    def _instances_in(self, node: ast.AST) -> Iterator[tuple[str, tuple[str, ...] | None]]:
        """(model, the columns it is given: () for an instance read, None if unknown) of each
        instance an add/add_all/delete argument holds."""
        elements = node.elts if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else [node]
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            elements = [node.elt]
        for element in elements:
            model = self._instance_of(element)
            if model is None:
                continue
            made = self._constructed(element)
            if made is not None:
                yield model, _keywords(made)
            elif isinstance(element, ast.Name):
                yield model, self._bound(element.id)[2]
            else:
                yield model, ()

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            for model, table in self.tables.items():
                if re.search(rf"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+{table}\b", node.value, re.I):
                    self._write(node, model, "SQL text", None)


_Bound = tuple[str, str, "tuple[str, ...] | None"]


@functools.cache
def _distinctive_columns() -> dict[str, str]:
    """Column attribute -> model, for the attributes of one model only whose names are of more than
    one word (current_call_sid, wrap_up_until): an assignment to one of them is taken as a write of
    that model's table whatever the object (`status` or `name` could be anything's)."""
    models: dict[str, set[str]] = {}
    for mapper in Base.registry.mappers:
        for attribute in mapper.column_attrs:
            models.setdefault(attribute.key, set()).add(mapper.class_.__name__)
    return {key: next(iter(owners)) for key, owners in models.items() if len(owners) == 1 and "_" in key}


def _keywords(call: ast.Call) -> tuple[str, ...] | None:
    """The keywords a call names; None if it passes **keywords or positional values."""
    if call.args or any(keyword.arg is None for keyword in call.keywords):
        return None
    return tuple(keyword.arg for keyword in call.keywords)


def _values_of(call: ast.Call) -> tuple[str, ...] | None:
    """The columns the .values(...) chained on statement `call` names; None if it cannot be told
    (no .values, positional values or **keywords: every column may be written)."""
    parent = getattr(call, "_chained_by", None)
    while parent is not None:
        if parent.func.attr == "values":
            return _keywords(parent)
        parent = getattr(parent, "_chained_by", None)
    return None


def _mark_chains(tree: ast.AST) -> None:
    """Let each call know the method call chained on its result (update(X).where(...).values(...))."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(
                node.func.value, ast.Call):
            node.func.value._chained_by = node  # type: ignore[attr-defined]


def writes_in(source: str, module: str, tables: dict[str, str] | None = None) -> list[Write]:
    """Every write of a table the scanner sees in `source`, the code of `module` (dotted name)."""
    tree = ast.parse(source)
    _mark_chains(tree)
    scanner = _Scanner(module, tables or _tables())
    scanner.visit(tree)
    return scanner.writes


def production_modules() -> Iterator[tuple[str, Path]]:
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(NOT_SCANNED):
                yield relative[:-3].removesuffix("/__init__").replace("/", "."), path


def _owns(owners: tuple[str, ...], module: str) -> bool:
    return any(module == owner or module.startswith(owner + ".") for owner in owners)


def trespasses(write: Write) -> tuple[str, ...]:
    """The owners `write` goes around (empty if its module may write what it writes)."""
    owners = OWNERS.get(write.table)
    if owners is not None:
        return () if _owns(owners, write.module) else owners
    column_owners = {column: owners for (table, column), owners in COLUMN_OWNERS.items()
                     if table == write.table}
    if not column_owners:
        return ()
    if write.columns is None and any(_owns(owners, write.module) for owners in column_owners.values()):
        return ()  # columns it cannot tell, in a module that owns some of them: taken for its own
    written = column_owners if write.columns is None else [c for c in write.columns if c in column_owners]
    return tuple(sorted({owner for column in written for owner in column_owners[column]
                         if not _owns(column_owners[column], write.module)}))


def test_only_a_tables_owner_writes_it():
    tables = _tables()
    found = [write for module, path in production_modules()
             for write in writes_in(path.read_text(), module, tables)]
    assert len(found) > 20  # the scan sees the owners' own writes: it is looking at the right code
    assert [f"{write} (owned by {', '.join(trespasses(write))})"
            for write in found if trespasses(write)] == []


def test_every_owner_named_is_a_production_module_or_package():
    modules = {module for module, _ in production_modules()}
    owners = {owner for owners in (*OWNERS.values(), *COLUMN_OWNERS.values()) for owner in owners}
    assert sorted(owner for owner in owners if owner not in modules) == []
    assert set(OWNERS) | {table for table, _ in COLUMN_OWNERS} <= set(_tables().values())


def test_every_table_has_an_owner():
    """Each table of hotline.models (Base.metadata) has its owner declared: the whole table in
    OWNERS, or each of its columns in COLUMN_OWNERS."""
    unowned = [f"{table.name}.{column.name}" for table in Base.metadata.sorted_tables
               if table.name not in OWNERS
               for column in table.columns if (table.name, column.name) not in COLUMN_OWNERS]
    assert unowned == []


def test_the_scan_sees_every_table_written():
    """Each table is checked: the scan finds at least one write of it (its owner's), so its name and
    model are the ones the code uses; NOT_SEEN says why the exceptions are not."""
    tables = _tables()
    seen = {write.table for module, path in production_modules()
            for write in writes_in(path.read_text(), module, tables)}
    assert sorted(table.name for table in Base.metadata.sorted_tables
                  if table.name not in seen and table.name not in NOT_SEEN) == []
    assert sorted(table for table in NOT_SEEN if table in seen) == []  # seen after all: drop the exception


SAMPLE = '''
from sqlalchemy import delete, insert, update
from hotline.models import Callback, QueueEntry, Staff

def each_way(session, call, staff: "Staff | None", changes: dict):
    session.execute(update(QueueEntry).where(QueueEntry.id == 1).values(urgent=True))
    session.execute(delete(QueueEntry.__table__))
    table = QueueEntry.__table__
    transient = QueueEntry(call_sid="y")  # built, never added: no write
    session.execute(insert(table), [{}])
    session.add(Callback(call_id=call.id))
    entry = QueueEntry(call_sid="x")
    session.add_all([entry])
    staff.status = "busy"
    call.stage = "queued"  # a model the scan cannot tell (no annotation): not seen
    found = session.get(Callback, 1)
    found.state, found.number = "canceled", None
    setattr(staff, "wrap_up_until", None)
    session.execute(update(Staff).values(name="n"))
    session.execute(update(Staff).where(Staff.id == 1).values(**changes))
    session.execute(text("UPDATE queue_entries SET urgent = true"))
    session.delete(session.scalar(select(QueueEntry).where(QueueEntry.id == 1)))
    made = accounts.create_staff(session)
    made.wrap_up_until = None  # a column of one model only, whatever `made` is
'''


@pytest.mark.parametrize("module, expected", [
    ("dashboards.sample", [
        "dashboards.sample:6: update(QueueEntry) writes queue_entries (owned by routing.queues)",
        "dashboards.sample:7: delete(QueueEntry.__table__) writes queue_entries (owned by routing.queues)",
        "dashboards.sample:10: insert(table) writes queue_entries (owned by routing.queues)",
        "dashboards.sample:11: session.add writes callbacks (owned by callbacks)",
        "dashboards.sample:13: session.add_all writes queue_entries (owned by routing.queues)",
        "dashboards.sample:14: staff.status = writes staff (owned by routing.reservation)",
        "dashboards.sample:17: found.state = writes callbacks (owned by callbacks)",
        "dashboards.sample:17: found.number = writes callbacks (owned by callbacks)",
        "dashboards.sample:18: setattr writes staff (owned by routing.reservation)",
        "dashboards.sample:19: update(Staff) writes staff (owned by hotline.accounts)",
        "dashboards.sample:20: update(Staff) writes staff (owned by hotline.accounts, routing.reservation)",
        "dashboards.sample:21: SQL text writes queue_entries (owned by routing.queues)",
        "dashboards.sample:22: session.delete writes queue_entries (owned by routing.queues)",
        "dashboards.sample:24: made.wrap_up_until = writes staff (owned by routing.reservation)",
    ]),
    ("routing.queues", [
        "routing.queues:11: session.add writes callbacks (owned by callbacks)",
        "routing.queues:14: staff.status = writes staff (owned by routing.reservation)",
        "routing.queues:17: found.state = writes callbacks (owned by callbacks)",
        "routing.queues:17: found.number = writes callbacks (owned by callbacks)",
        "routing.queues:18: setattr writes staff (owned by routing.reservation)",
        "routing.queues:19: update(Staff) writes staff (owned by hotline.accounts)",
        "routing.queues:20: update(Staff) writes staff (owned by hotline.accounts, routing.reservation)",
        "routing.queues:24: made.wrap_up_until = writes staff (owned by routing.reservation)",
    ]),
])
def test_the_scan_sees_each_kind_of_write(module, expected):
    """The scanner itself, on a sample with one of each kind of write it claims to see: a module
    outside the owners is told each trespass, an owner only the others' tables."""
    assert [f"{write} (owned by {', '.join(trespasses(write))})"
            for write in writes_in(SAMPLE, module) if trespasses(write)] == expected
