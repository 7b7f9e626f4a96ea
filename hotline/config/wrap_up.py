"""The lists a consultant chooses from when writing up a consultation (the [wrap_up] table):
sub-topics per topic, outcomes (disposition codes), services to refer to, and genders.

Each list is an array of {code, label} tables, so a deployment that sets one replaces it whole
(arrays are not merged). Codes are stored on the consultation record; labels are shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hotline.config import CatalogueError

# Codes fit the record's columns: sub_topic, disposition, referral String(48), gender String(16).
_CODE = re.compile(r"^[a-z0-9_]{1,48}$")
GENDER_CODE_LENGTH = 16
LISTS = ("dispositions", "referrals", "genders")


@dataclass(frozen=True)
class WrapUpLists:
    """The wrap-up choices, each a tuple of (code, label) in the configured order."""

    sub_topics: dict[str, tuple[tuple[str, str], ...]]  # topic code -> its sub-topics
    dispositions: tuple[tuple[str, str], ...]
    referrals: tuple[tuple[str, str], ...]
    genders: tuple[tuple[str, str], ...]

    def label(self, name: str, code: str | None) -> str | None:
        """The label of `code` in list `name` (a sub-topic: any topic's); the code itself if it is no
        longer configured, None for None."""
        if code is None:
            return None
        choices = [pair for pairs in self.sub_topics.values() for pair in pairs] if name == "sub_topics" \
            else getattr(self, name)
        return dict(choices).get(code, code)


def _choices(where: str, spec: Any, max_length: int = 48) -> tuple[tuple[str, str], ...]:
    """A list of {code, label} tables, checked: codes unique, lower-case, short enough."""
    if not isinstance(spec, list):
        raise CatalogueError(f"{where} must be a list of {{ code = \"...\", label = \"...\" }}")
    pairs = []
    for item in spec:
        code = item.get("code") if isinstance(item, dict) else None
        label = item.get("label") if isinstance(item, dict) else None
        if not isinstance(code, str) or not _CODE.match(code) or len(code) > max_length:
            raise CatalogueError(f"{where}: each code must be 1-{max_length} of a-z, 0-9 and _ "
                                 f"(got {code!r})")
        if not isinstance(label, str) or not label.strip():
            raise CatalogueError(f"{where}.{code} needs a label")
        pairs.append((code, label))
    codes = [code for code, _ in pairs]
    if len(set(codes)) != len(codes):
        raise CatalogueError(f"{where} repeats a code")
    return tuple(pairs)


def parse_wrap_up(spec: Any, topics: set[str]) -> WrapUpLists:
    """The [wrap_up] table checked against the configured `topics`; CatalogueError if malformed.
    A topic without sub-topics is allowed (the sub-topic is then left empty)."""
    if not isinstance(spec, dict):
        raise CatalogueError("[wrap_up] must be a table")
    sub_topics = spec.get("sub_topics", {})
    if not isinstance(sub_topics, dict):
        raise CatalogueError("wrap_up.sub_topics must be a table of topic = [ ... ]")
    unknown = sorted(set(sub_topics) - topics)
    if unknown:
        raise CatalogueError(f"wrap_up.sub_topics names unknown topics: {', '.join(unknown)}")
    lists = {name: _choices(f"wrap_up.{name}", spec.get(name, []),
                            GENDER_CODE_LENGTH if name == "genders" else 48) for name in LISTS}
    if not lists["dispositions"]:
        raise CatalogueError("wrap_up.dispositions needs at least one outcome")
    return WrapUpLists(sub_topics={topic: _choices(f"wrap_up.sub_topics.{topic}", choices)
                                   for topic, choices in sub_topics.items()}, **lists)
