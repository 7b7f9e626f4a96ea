"""Callbacks: a caller who could not wait asked to be called back. The row is the source of truth;
RQ jobs only wake it up. Each try at placing it is an attempt, with its outcome."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.models.base import Base, UTCDateTime, utcnow


class CallbackState(str, enum.Enum):
    draft = "draft"  # being booked: the caller is still choosing the number or the window
    scheduled = "scheduled"  # waiting for its time (due_at) to come
    due = "due"  # its time has come: in the queue, competing for a consultant
    in_progress = "in_progress"  # a consultant accepted: the caller's phone is being rung or talking
    completed = "completed"
    unreachable = "unreachable"  # every attempt failed
    canceled = "canceled"


OPEN_STATES = (CallbackState.scheduled.value, CallbackState.due.value, CallbackState.in_progress.value)


class AttemptOutcome(str, enum.Enum):
    consultant_no_answer = "consultant_no_answer"
    caller_busy = "caller_busy"
    caller_no_answer = "caller_no_answer"
    machine = "machine"  # voicemail or an answering machine picked up
    failed = "failed"
    completed = "completed"


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        # Reconciliation: open callbacks whose time has come.
        Index("ix_callbacks_open_due", "state", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # The call that asked for it; unique, so a retried webhook books one callback, not two.
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str | None] = mapped_column(String(20))  # E.164; personal data, erased by retention
    language_code: Mapped[str] = mapped_column(ForeignKey("languages.code"))
    topic_code: Mapped[str] = mapped_column(ForeignKey("topics.code"))
    office_code: Mapped[str] = mapped_column(ForeignKey("offices.code"))
    # When the caller first rang: callbacks compete with waiting callers by this, keeping their place.
    first_rang_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The window the caller chose (or "as soon as possible": from booking to the end of the day).
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the next attempt may be made; moves on after a failed attempt (the retry schedule).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=CallbackState.scheduled.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # attempts that rang the caller
    # A consultant chosen by staff; None: anyone with the language and topic.
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The call that reached the caller (its consultation record links back to call_id).
    return_call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    sms_booked: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_unreachable: Mapped[bool] = mapped_column(Boolean, default=False)

    attempt_rows: Mapped[list["CallbackAttempt"]] = relationship(
        back_populates="callback", order_by="CallbackAttempt.id", cascade="all, delete-orphan"
    )


class CallbackAttempt(Base):
    __tablename__ = "callback_attempts"
    __table_args__ = (UniqueConstraint("callback_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... in the callback's order
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a person answered the caller's leg: set once, only on an attempt without an outcome,
    # and an attempt the caller answered is never failed (callbacks.attempts).
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consultant_leg_sid: Mapped[str | None] = mapped_column(String(64))
    caller_leg_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    outcome: Mapped[str | None] = mapped_column(String(24))

    callback: Mapped[Callback] = relationship(back_populates="attempt_rows")
