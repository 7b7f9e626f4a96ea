"""The consultant's desk: my status, the call ringing me or that I am on (with the caller's earlier
records), the write-ups I owe, my callbacks, and records of consultations in person or online.

Plain functions over a session; the views in dashboards/web/desk_views.py only parse and render.
Who may see a record and write it up: hotline.permissions (visible_records, may_see_record,
may_write_up).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

import routing
from dashboards import callback_queries
from hotline import permissions, records
from hotline.models import (
    OPEN_STATES,
    Call,
    Callback,
    Channel,
    ConsultationRecord,
    QueueEntry,
    Staff,
    Status,
    utcnow,
)

# The statuses a consultant sets on the desk; busy and wrap-up come from calls.
DESK_STATUSES = (Status.available.value, Status.break_.value, Status.offline.value)
ON_CALL = (Status.offered.value, Status.busy.value)
OTHER_CHANNELS = (Channel.in_person.value, Channel.online.value)
EARLIER_RECORDS = 20


def set_my_status(session: Session, staff: Staff, status: str) -> bool:
    """Set `staff`'s status as the API's PUT /api/consultants/<id>/status does: a compare-and-set
    (routing.set_status), then routing.consultant_status_changed, so a ringing offer goes to the
    next consultant and going available pairs them with a waiting caller. Returns whether the
    status was set; False: it changed meanwhile, and `staff` holds the status that won."""
    if status not in DESK_STATUSES:
        raise ValueError(f"status must be one of {', '.join(DESK_STATUSES)}")
    was_offered = staff.current_call_sid if staff.status == Status.offered.value else None
    if not routing.set_status(session, staff, status):
        return False
    routing.consultant_status_changed(session, staff, was_offered)
    return True


@dataclass
class CallInHand:
    """The call ringing a consultant or that they are on, with what the desk shows of it."""

    status: str  # offered (ringing) or busy (on it)
    call: Call  # for a callback: the call on which the caller asked for it
    callback: Callback | None
    waited_seconds: int | None  # in the queue, until put through (or until now); None: never queued
    earlier: list[ConsultationRecord] = field(default_factory=list)  # newest first


def call_in_hand(session: Session, staff: Staff, now: datetime | None = None) -> CallInHand | None:
    """The call `staff` is being offered or is on, or None. A callback's offer is shown with the
    call that asked for it. Earlier records: of calls with the same caller key, that `staff` may see."""
    now = now or utcnow()
    status = routing.effective_status(staff, now)
    if status not in ON_CALL or not staff.current_call_sid:
        return None
    entry = session.scalar(select(QueueEntry).where(QueueEntry.call_sid == staff.current_call_sid))
    call = session.scalar(select(Call).where(Call.call_sid == staff.current_call_sid))
    callback = None
    if call is None and entry is not None and entry.callback_id is not None:
        callback = session.get(Callback, entry.callback_id)
        call = session.get(Call, callback.call_id) if callback else None
    if call is None:
        return None
    waited = None
    if entry is not None:
        waited = max(0, int(((entry.ended_at or now) - entry.entered_at).total_seconds()))
    return CallInHand(status, call, callback, waited, earlier_records(session, staff, call))


def earlier_records(session: Session, staff: Staff, call: Call,
                    limit: int = EARLIER_RECORDS) -> list[ConsultationRecord]:
    """Consultation records (any office) of earlier calls from the caller of `call`, linked by the
    caller key, newest first, only those `staff` may see; [] for a withheld number."""
    if not call.caller_key:
        return []
    return list(session.scalars(
        select(ConsultationRecord).join(Call, ConsultationRecord.call_id == Call.id)
        .where(Call.caller_key == call.caller_key, Call.id != call.id, permissions.visible_records(staff))
        .order_by(ConsultationRecord.started_at.desc(), ConsultationRecord.id.desc()).limit(limit)
    ))


def write_ups_owed(session: Session, staff: Staff, limit: int = 20) -> list[ConsultationRecord]:
    """Records of calls `staff` answered that are not yet written up, newest first."""
    return list(session.scalars(
        select(ConsultationRecord).options(joinedload(ConsultationRecord.call))
        .where(ConsultationRecord.consultant_id == staff.id, ConsultationRecord.completed_at.is_(None),
               ConsultationRecord.channel == Channel.phone.value)
        .order_by(ConsultationRecord.started_at.desc(), ConsultationRecord.id.desc()).limit(limit)
    ))


def wrap_up_left(staff: Staff, now: datetime | None = None) -> int | None:
    """Seconds of wrap-up `staff` has left, or None when they are not in wrap-up."""
    now = now or utcnow()
    if staff.status != Status.wrap_up.value or staff.wrap_up_until is None:
        return None
    return max(0, int((staff.wrap_up_until - now).total_seconds()))


@dataclass(frozen=True)
class WrapUp:
    """What the wrap-up form records (codes checked against the catalogue by the form)."""

    topic: str | None
    sub_topic: str | None
    disposition: str
    referral: str | None
    referral_other: str | None
    notes: str | None
    nationality: str | None  # ISO 3166-1 alpha-2, upper case
    gender: str | None
    urgent: bool


def _columns(wrap: WrapUp, topic_code: str | None) -> dict[str, object]:
    """The record's columns the wrap-up `wrap` sets (hotline.records.write_up); the topic stays
    `topic_code` unless the form names one."""
    return dict(topic_code=wrap.topic or topic_code, sub_topic=wrap.sub_topic, disposition=wrap.disposition,
                referral=wrap.referral, referral_other=wrap.referral_other, notes=wrap.notes,
                nationality=wrap.nationality, gender=wrap.gender, urgent_followup=wrap.urgent)


def save_wrap_up(session: Session, staff: Staff, record: ConsultationRecord, wrap: WrapUp) -> bool:
    """Complete `record` with `wrap` (the caller checked permissions.may_write_up). If `staff` wrote
    up their own call while in wrap-up, their wrap-up ends now: available through routing
    (compare-and-set), and paired with a waiting caller. Returns whether the wrap-up was ended here."""
    records.write_up(session, record, _columns(wrap, record.topic_code))
    session.refresh(staff)
    if record.consultant_id != staff.id or staff.status != Status.wrap_up.value:
        return False
    if not routing.set_status(session, staff, Status.available.value):
        return False  # a call or a status set elsewhere won: it stays
    routing.consultant_status_changed(session, staff, None)
    return True


def record_other_channel(session: Session, staff: Staff, channel: str, language: str, office: str,
                         wrap: WrapUp, minutes: int | None = None) -> ConsultationRecord:
    """A consultation given in person or online, recorded by `staff` who gave it: a record like a
    call's (outcome "answered", so it counts wherever answered calls do), with its channel and
    writer, completed at once. `minutes`: how long it took, if given. Returns the stored record."""
    if channel not in OTHER_CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(OTHER_CHANNELS)}")
    now = utcnow()
    return records.record_in_person(
        session, channel=channel, language_code=language, office_code=office, staff_id=staff.id,
        started_at=now - timedelta(minutes=minutes or 0),
        duration_seconds=minutes * 60 if minutes is not None else None, columns=_columns(wrap, None), now=now)


def my_callbacks(session: Session, staff: Staff, limit: int = 20) -> list[tuple[Callback, str]]:
    """Open callbacks `staff` may be rung for, soonest due first: those assigned to them, and those
    given to nobody in particular in one of their language x topic skills. Each with the CallSid of
    the call that asked for it (callback_queries.callbacks)."""
    rows = callback_queries.callbacks(session, callback_queries.CallbackFilter(
        states=OPEN_STATES, assigned_staff_id=staff.id, limit=limit))
    skills = {(skill.language_code, skill.topic_code) for skill in staff.skills}
    for language in staff.languages:
        rows += [(callback, sid) for callback, sid in callback_queries.callbacks(
                    session, callback_queries.CallbackFilter(states=OPEN_STATES, language=language,
                                                             unassigned=True, limit=limit))
                 if (callback.language_code, callback.topic_code) in skills]
    rows.sort(key=lambda row: (row[0].due_at, row[0].id))
    return rows[:limit]


def urgent_followups(session: Session, limit: int = 50) -> list[ConsultationRecord]:
    """Records flagged for an urgent follow-up, newest first (for supervisors)."""
    return list(session.scalars(
        select(ConsultationRecord).where(ConsultationRecord.urgent_followup.is_(True))
        .order_by(ConsultationRecord.completed_at.desc(), ConsultationRecord.id.desc()).limit(limit)
    ))


def record_for(session: Session, staff: Staff, record_id: int) -> ConsultationRecord | None:
    """The record `record_id` if it exists; PermissionError if `staff` may not see it."""
    record = session.get(ConsultationRecord, record_id)
    if record is not None and not permissions.may_see_record(staff, record):
        raise PermissionError(f"staff {staff.id} may not see record {record_id}")
    return record
