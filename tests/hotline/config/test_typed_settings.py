"""Every setting an area reads is a declared, typed attribute of the catalogue (hotline.config), with
its default from default_config.toml alone; no area reads the TOML itself."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from hotline.catalogue import Catalogue, CatalogueError, load_catalogue, load_raw
from hotline.config import board, callbacks
from hotline.config.general import General

ROOT = Path(__file__).resolve().parents[3]
AREAS = ("hotline", "ivr", "routing", "callbacks", "recordings", "dashboards")
# Where the TOML is read: the loader and the sections' own parsers.
READERS = (ROOT / "hotline" / "catalogue.py", ROOT / "hotline" / "config")


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "deployment.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_every_top_level_setting_is_a_declared_attribute_with_the_files_value():
    raw = load_raw()
    catalogue = Catalogue(raw)
    top_level = {key: value for key, value in raw.items() if not isinstance(value, dict)}
    assert set(top_level) == {field.name for field in dataclasses.fields(General)}
    for key, value in top_level.items():
        assert getattr(catalogue, key) == (tuple(value) if isinstance(value, list) else value), key
    assert "__getattr__" not in vars(Catalogue)
    with pytest.raises(AttributeError):
        catalogue.no_such_setting  # noqa: B018


def test_a_tables_defaults_are_those_of_default_config():
    defaults = load_raw()
    assert board.parse({}) == board.BoardRules(defaults["board"]["service_level_seconds"],
                                               defaults["board"]["longest_wait_alert_seconds"])
    assert callbacks.parse({}) == load_catalogue().callbacks
    assert load_catalogue().queue.estimate_min_answers == defaults["queue"]["estimate_min_answers"]


def test_no_area_reads_the_raw_configuration():
    reads = []
    for area in AREAS:
        for path in sorted((ROOT / area).rglob("*.py")):
            if any(path == reader or reader in path.parents for reader in READERS):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            reads += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and node.attr == "raw"]
    assert reads == []


@pytest.mark.parametrize("toml, expected", [
    ("stale_call_minutes = 0\n", "stale_call_minutes must be a whole number of minutes, at least 1"),
    ('dial_timeout = "20"\n', "dial_timeout must be a whole number of at least 1"),
    ("menu_retries = -1\n", "menu_retries must be a whole number of at least 0"),
    ('default_language = "de"\n', "default_language must name a configured language, not 'de'"),
    ('default_topic = "astrology"\n', "default_topic must name a configured topic, not 'astrology'"),
    ('greeting_languages = ["bg", "xx"]\n', "greeting_languages must list configured languages"),
    ("[callbacks]\nmax_attempts = 0\n", "callbacks.max_attempts must be a whole number from 1 to 10"),
    ("[board]\nservice_level_seconds = 0\n", "board.service_level_seconds must be a whole number"),
    ("[queue]\nestimate_min_answers = 0\n", "queue.estimate_min_answers must be a whole number of at least"),
])
def test_a_bad_setting_is_refused_when_the_catalogue_loads(tmp_path, toml, expected):
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(_write(tmp_path, toml))
    assert expected in str(raised.value)
