"""The [callbacks] table of the running app's configuration (hotline.config.callbacks parses and
checks it when the catalogue loads)."""
from __future__ import annotations

from hotline import runtime
from hotline.config.callbacks import CallbackRules


def rules() -> CallbackRules:
    """The running app's callback rules (catalogue.callbacks). Needs an app context."""
    return runtime.catalogue().callbacks
