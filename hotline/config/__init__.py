"""The configuration's typed sections: one frozen dataclass per table of default_config.toml, each
with the function that parses and checks it.

hotline.catalogue loads the TOML (the packaged defaults with HOTLINE_CONFIG merged over them) and
builds a Catalogue of these sections once; areas read the typed attributes, never the TOML:

- general.py   the top-level settings (default_language, dial_timeout, retention_days, ...)
- places.py    [offices], [languages], [topics]: Office, Language, Topic and opening hours
- queue.py     [queue]: QueueRules (catalogue.queue)
- callbacks.py [callbacks]: CallbackRules (catalogue.callbacks; callbacks.rules.rules())
- board.py     [board]: BoardRules (catalogue.board)
- wrap_up.py   [wrap_up]: WrapUpLists (catalogue.wrap_up)
- prompts.py   the checks of the prompt catalogue (prompts.toml and [prompts.<lang>])

The sections live in the core rather than beside the areas that read them: the core never imports
an area, and every entry point (app, worker, CLI) refuses a bad configuration when it loads it.
"""
from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


class CatalogueError(ValueError):
    """The configuration is incomplete or contradicts itself."""


@cache
def _packaged_text(name: str) -> str:
    return resources.files("hotline").joinpath(name).read_text(encoding="utf-8")


def packaged(name: str) -> dict[str, Any]:
    """A TOML file shipped in the hotline package ("default_config.toml", "prompts.toml"), parsed
    afresh (the caller may change it)."""
    return tomllib.loads(_packaged_text(name))


def with_defaults(table: str | None, spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` over the packaged default_config.toml's `table` (None: its top-level settings, those
    above the first table), one level deep: the one source of every default. CatalogueError if
    `spec` is not a table."""
    if not isinstance(spec, dict):
        raise CatalogueError(f"[{table}] must be a table")
    if table is None:
        defaults = {key: value for key, value in _defaults().items() if not isinstance(value, dict)}
    else:
        defaults = _defaults().get(table, {})
    return {**defaults, **spec}


def default(table: str, key: str) -> Any:
    """The packaged default_config.toml's value of `key` in `table` (a deployment's own value is
    the catalogue's): for a function whose caller may leave a setting out."""
    return _defaults()[table][key]


@cache
def _defaults() -> dict[str, Any]:
    return packaged("default_config.toml")  # read-only: with_defaults copies what it gives out
