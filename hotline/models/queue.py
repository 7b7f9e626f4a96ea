"""Callers waiting for a consultant: one row per call that entered a queue, kept after it leaves
so that answer rates, waits and abandonment can be reported."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.models.base import Base, UTCDateTime, utcnow


class QueueState(str, enum.Enum):
    waiting = "waiting"
    offered = "offered"  # claimed for one consultant, whose phone is ringing
    bridged = "bridged"
    left = "left"  # left the queue alive: a key pressed, a limit reached, redirected
    abandoned = "abandoned"  # hung up while waiting


class QueueEntry(Base):
    __tablename__ = "queue_entries"
    __table_args__ = (
        # The head of one (language, topic) queue, urgent or not, is the first index entry of a range.
        Index("ix_queue_entries_head",
              "state", "language_code", "topic_code", "urgent", "first_rang_at", "id"),
        # The same across a language's topics, for callers widened to any consultant with the language.
        Index("ix_queue_entries_language_head", "state", "language_code", "urgent", "first_rang_at", "id"),
        # Recent answers of a queue, for the estimated wait.
        Index("ix_queue_entries_ended", "state", "language_code", "topic_code", "ended_at"),
        # Callers who agreed to other languages: the distinct values, then the head of each.
        Index("ix_queue_entries_accepting", "state", "accepts_languages", "urgent", "first_rang_at", "id"),
        # Callbacks staff assigned to one consultant: theirs, first.
        Index("ix_queue_entries_assigned", "state", "assigned_staff_id", "urgent", "first_rang_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # The waiting call; None for a callback that is due, which waits here too, keeping the caller's
    # place (call_sid is then "callback-<id>-<attempt>", unique per attempt).
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id", ondelete="CASCADE"),
                                                    index=True)
    # Only this consultant may take it (a callback staff assigned); None: anyone suitable.
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    language_code: Mapped[str] = mapped_column(ForeignKey("languages.code"))
    topic_code: Mapped[str] = mapped_column(ForeignKey("topics.code"))
    office_code: Mapped[str] = mapped_column(ForeignKey("offices.code"))
    # When the caller first rang: the order of service. A callback that queues again keeps it.
    first_rang_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # 0: consultants with the language and topic; 1: also any consultant with the language;
    # 2: also the other office (what the caller has been told; routing computes it from entered_at).
    widen_level: Mapped[int] = mapped_column(Integer, default=0)
    # Other languages the caller agreed to be served in, comma separated ("en,bg"); None if none.
    accepts_languages: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=QueueState.waiting.value)
    offered_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The consultant's leg rung through the REST API for the offer, to cancel it if the caller goes.
    offer_leg_sid: Mapped[str | None] = mapped_column(String(64))
    # Why a caller still on the line left the queue (a key they pressed, a limit); read by the
    # Enqueue action, which decides what they hear next.
    leave_reason: Mapped[str | None] = mapped_column(String(24))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Twilio's QueueResult (bridged, hangup, leave, queue-full...) or our own reason.
    result: Mapped[str | None] = mapped_column(String(40))
