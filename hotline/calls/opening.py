"""Opening a call: the row of a CallSid, inserted once whoever asks first (a compare-and-set on
the unique CallSid), with its first journal event."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.base import ExecutableOption

from hotline import runtime
from hotline.calls import statements
from hotline.calls.changes import journal
from hotline.calls.reading import find_call
from hotline.catalogue import Catalogue
from hotline.models import Call, utcnow
from hotline.phone_numbers import caller_key, mask, normalise

log = logging.getLogger(__name__)

# Call's query_expression attributes (read with the call by a step that needs them).
CALL_EXPRESSIONS = ("queue_state", "offer_leg_sid", "held", "languages_on_duty", "offered_to")


def open_call(session: Session, catalogue: Catalogue, form: dict[str, str],
              loads: Sequence[ExecutableOption] = (), new: bool = False, lock: bool = False) -> Call:
    """The Call row for this CallSid (Twilio's webhook `form`), created on first sight (a retry
    finds the same row); `loads` and `lock` as for find_call (a call created here has none of them
    loaded: they read None; its row, inserted by this transaction, is another's only once
    committed).

    `new`: the call is expected not to exist yet (Twilio's Voice URL): it is inserted at once, and
    read only if a retry or twin of the webhook inserted it first. Either way the new row, with its
    "incoming" journal event, is written in the session's transaction and committed with the
    step's other changes (the caller commits): one transaction per webhook (issue 11)."""
    if not new:
        call = find_call(session, form["CallSid"], loads, lock)
        if call:
            return call
    values = _new_call_values(catalogue, form)
    call = _insert(session, values, ("incoming", values["office_code"], None))
    if call is None:
        return find_call(session, form["CallSid"], loads, lock)
    log.info("call %s from %s to office %s", call.call_sid,
             mask(call.caller_number, runtime.settings().secret_key), call.office_code)
    return call


def open_placed_call(session: Session, values: dict[str, object], kind: str, detail: str | None = None,
                     consultant_id: int | None = None) -> Call:
    """The Call of a leg the service placed (`values`: its columns, call_sid and direction among
    them; stage, office_code), created unless its CallSid is stored already, journalled as `kind`
    (with `detail` and `consultant_id`) when created; not committed (the caller commits). Returns
    the call, stored or new."""
    values = {"started_at": utcnow(), **values}
    call = _insert(session, values, (kind, detail, consultant_id))
    return call if call is not None else find_call(session, str(values["call_sid"]))


def _insert(session: Session, values: dict, first: tuple[str, str | None, int | None]) -> Call | None:
    """Insert the call of `values` and journal its `first` event (kind, detail, consultant), by the
    INSERT itself where the database allows (statements.insert_call); None if its CallSid was
    stored already. Compare-and-set on the unique CallSid: of two copies of the
    first webhook, one inserts; the other waits for its commit and inserts nothing."""
    inserting, journals = statements.insert_call(statements.dialect(session), tuple(values))
    kind, detail, consultant_id = first
    params = {**values, "first_at": utcnow(), "first_kind": kind, "first_detail": detail,
              "first_consultant_id": consultant_id} if journals else values
    call_id = session.execute(inserting, params).scalar_one_or_none()
    if call_id is None:
        return None
    call = _persistent_call(session, call_id, values)
    if not journals:
        journal(session, call, *first)
    return call


def _new_call_values(catalogue: Catalogue, form: dict[str, str]) -> dict:
    """The columns of a call first seen in `form` that have a value, as the INSERT writes them (the
    others are NULL); stage and start are given, not left to the columns' defaults, so that the
    Call made persistent from these (_persistent_call) holds what was stored."""
    called = catalogue.dialled_number(form.get("To"))
    caller = normalise(form.get("From"))
    return {
        "call_sid": form["CallSid"],
        "direction": fit(form.get("Direction"), Call.direction) or "inbound",
        "caller_number": caller,
        "caller_key": caller_key(caller, runtime.settings().secret_key),
        "called_number": called,
        "office_code": catalogue.office_for_number(called).code,
        "stage": "language_menu",
        "twilio_status": fit(form.get("CallStatus"), Call.twilio_status),
        "started_at": utcnow(),
    }


def _persistent_call(session: Session, call_id: int, values: dict) -> Call:
    """The Call just inserted as `values`, made persistent in the session without reading it back:
    every column is set (those not in `values` to NULL, as inserted), so none is loaded later
    (make_transient_to_detached marks a missing one expired), and the query expressions read None
    (not read with it). Its values are set as a load sets them, in the instance's dict: through
    the constructor and set_committed_value, each attribute cost a few Python calls, about 300 for a
    call (bench/ivr_in_process.py --profile)."""
    call = _CALL_CLASS.new_instance()
    call.__dict__.update(_UNSET, **values, id=call_id)
    make_transient_to_detached(call)
    session.add(call)
    return call


_CALL_CLASS = inspect(Call).class_manager
# Every column and query expression of a Call, None: what a call inserted with only some columns holds.
_UNSET = dict.fromkeys((*Call.__table__.columns.keys(), *CALL_EXPRESSIONS))


def fit(value: str | None, column) -> str | None:
    """`value` cut to the length of its String column: Twilio's documented values all fit, and
    PostgreSQL refuses a longer one (the webhook then fails) where SQLite would store it."""
    return value[:column.type.length] if value else value
