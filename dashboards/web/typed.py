"""Text that a person typed, shown on the staff web isolated from the page around it: staff names,
a record's notes and its referral in the writer's words, anything a caller or a staff member
entered. Without isolation, Arabic or Farsi text moves the punctuation and numbers next to it (a
final full stop to the start, "(admin)" after a name read backwards), and a right-to-left override
(U+202E) in a name reverses the text that follows it.

The rule is the Unicode Bidirectional Algorithm's isolates (UAX #9, "Explicit Directional
Isolates"), as HTML gives them: an element with `dir="auto"` (or `<bdi>`) is laid out on its own,
in the direction of its first strong letter, and nothing in it reaches outside it (HTML, "The dir
attribute" and the rendering section's `unicode-bidi: isolate`; W3C, "Inline markup and
bidirectional text in HTML"). In the templates:

- `{{ value|typed }}`: a typed value in running text or a cell, as `<span dir="auto">value</span>`
  (escaped; nothing for None or ""); the markup these pages used already, laid out as `<bdi>` is.
- `{{ value|typed_plain }}`: where no element may be (a page's `<title>`, an attribute): the value
  between FSI (U+2068) and PDI (U+2069), the same isolate in plain text.
- An element that holds one typed value and nothing else carries `dir="auto"` itself where it
  must (a form control: input, textarea, option) or may (a link to a person, a record's notes).

In Python, a message built around typed values (a flash, an account error) is made by
`with_typed`; tests/dashboards/web/test_typed_text_isolated.py walks every page with such values.
"""
from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape

FSI, PDI = "\u2068", "\u2069"


def typed(value: object) -> Markup:
    """`value` (any object; str() of it), escaped, in an isolating `<span dir="auto">`; an empty
    Markup (false, so `value|typed or '—'` works) for None or an empty value."""
    if value is None or value == "":
        return Markup("")
    return Markup('<span dir="auto">%s</span>') % str(value)


def typed_plain(value: object) -> str:
    """`value` (str() of it) between FSI and PDI, for places that take plain text only; "" for None."""
    if value is None or value == "":
        return ""
    return f"{FSI}{value}{PDI}"


def with_typed(message: str, **values: object) -> Markup:
    """`message`, a translated template with %(name)s fields (gettext called without the values),
    filled with `values` each isolated by `typed`; the rest of `message` escaped. Returns Markup,
    which survives a flash (Flask's session serializer keeps Markup)."""
    return escape(message) % {name: typed(value) for name, value in values.items()}


def init_app(app: Flask) -> None:
    """The `typed` and `typed_plain` filters for every template."""
    app.add_template_filter(typed, "typed")
    app.add_template_filter(typed_plain, "typed_plain")
