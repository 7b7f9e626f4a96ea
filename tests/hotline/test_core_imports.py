"""The core does not import an area (issue 18, "a core that shows its parts"): areas import the
core, never the other way round, so the core can be read, tested and changed without them. Where
the core needs an area's work it offers a plug-in point the area fills per app
(hotline.runtime.Runtime: ringers, leg_closers, ways_out, retention_purgers, sign_offs).

An AST scan of every module under hotline/ (not run, not imported): any `import <area>` or
`from <area>... import`, at module level or inside a function, fails, unless the module is one of
ALLOWED. What it cannot see: an import by importlib or __import__ with a computed name, and a
dotted path in a string (an RQ job's "callbacks.jobs:..." is one, resolved by the worker)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AREAS = ("ivr", "routing", "callbacks", "dashboards", "recordings")
# Module (path under the repository) or package (ending in "/") -> why it may import areas.
ALLOWED = {
    "hotline/app.py": "the composition root: create_app imports the areas and plugs them into the app",
    "hotline/dev/": "development tools, never imported by production: the demo seeds its consultants' "
                    "status through routing",
}


def _allowed(relative: str) -> bool:
    return any(relative == path or (path.endswith("/") and relative.startswith(path)) for path in ALLOWED)


def area_imports(source: str) -> list[tuple[int, str]]:
    """(line, module imported) of each import of an area in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.split(".")[0] in AREAS]
    return found


def test_the_core_imports_no_area():
    found = []
    for path in sorted((ROOT / "hotline").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if not _allowed(relative):
            found += [f"{relative}:{line}: imports {name}" for line, name in area_imports(path.read_text())]
    assert found == []


def test_the_exceptions_exist_and_are_used():
    """Each exception names a file or package of the core that does import an area (else drop it)."""
    for path, _why in ALLOWED.items():
        files = [ROOT / path] if not path.endswith("/") else sorted((ROOT / path).rglob("*.py"))
        assert any(area_imports(file.read_text()) for file in files if file.exists()), path


def test_the_scan_sees_each_form_of_import():
    sample = "import routing\nimport ivr.views as v\nfrom callbacks import schedule\n" \
             "from dashboards.web import auth\nimport hotline.calls\nfrom . import x\n" \
             "def f():\n    from recordings import storage\n"
    assert area_imports(sample) == [(1, "routing"), (2, "ivr.views"), (3, "callbacks"),
                                    (4, "dashboards.web"), (8, "recordings")]
