"""Calls: one row per Twilio CallSid, and the journal of each step of its journey."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from hotline.models.base import Base, UTCDateTime, utcnow


class Call(Base):
    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    caller_number: Mapped[str | None] = mapped_column(String(20))  # E.164; personal data; None if withheld
    # A pseudonymous key of the caller's number (keyed hash, hotline.phone_numbers.caller_key): links
    # a caller's calls for staff who may not see the number, and outlives the number's retention.
    caller_key: Mapped[str | None] = mapped_column(String(32), index=True)
    called_number: Mapped[str | None] = mapped_column(String(20))
    office_code: Mapped[str] = mapped_column(ForeignKey("offices.code"))
    language_code: Mapped[str | None] = mapped_column(ForeignKey("languages.code"))
    topic_code: Mapped[str | None] = mapped_column(ForeignKey("topics.code"))
    stage: Mapped[str] = mapped_column(String(24), default="language_menu")
    twilio_status: Mapped[str | None] = mapped_column(String(16))
    # answered | no_consultant | closed | callback | abandoned | failed; None while the call lasts
    outcome: Mapped[str | None] = mapped_column(String(24), index=True)
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    # Other languages the caller agreed to be served in ("bg,en"), when theirs was not staffed.
    accepts_languages: Mapped[str | None] = mapped_column(String(64))
    # For a callback's call to the caller: the call on which they asked to be called back.
    original_call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))

    # Read with the call by a step that needs them (hotline.calls.find_call's `loads`, e.g.
    # routing.call_end.END_CALL_LOADS), in the same SELECT; None when not read.
    queue_state: Mapped[str | None] = query_expression()  # of the call's queue entry; "": no entry
    offer_leg_sid: Mapped[str | None] = query_expression()  # the consultant's leg ringing for it
    held: Mapped[bool | None] = query_expression()  # whether a consultant holds the call
    languages_on_duty: Mapped[str | None] = query_expression()  # "bg,en": routing.language_on_duty
    offered_to: Mapped[str | None] = query_expression()  # "3,7": consultants offered it; "": none

    events: Mapped[list["CallEvent"]] = relationship(
        back_populates="call", order_by="CallEvent.id", cascade="all, delete-orphan"
    )


class CallEvent(Base):
    """One step of a call: menu reached, choice made, consultant offered, accepted, ended..."""

    __tablename__ = "call_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    detail: Mapped[str | None] = mapped_column(Text)

    call: Mapped[Call] = relationship(back_populates="events")
