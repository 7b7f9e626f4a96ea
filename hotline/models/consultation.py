"""Consultation records: what the centres report, whatever the channel."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.models.base import Base, UTCDateTime, utcnow
from hotline.models.call import Call


class Channel(str, enum.Enum):
    phone = "phone"
    in_person = "in_person"
    online = "online"


class ConsultationRecord(Base):
    __tablename__ = "consultation_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: Twilio retries its status callback, and one call makes one record.
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default=Channel.phone.value)
    language_code: Mapped[str | None] = mapped_column(ForeignKey("languages.code"), index=True)
    topic_code: Mapped[str | None] = mapped_column(ForeignKey("topics.code"), index=True)
    office_code: Mapped[str] = mapped_column(ForeignKey("offices.code"), index=True)
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(24))
    notes: Mapped[str | None] = mapped_column(Text)  # personal data
    # The wrap-up: what the consultation was about and how it ended (codes from the catalogue).
    sub_topic: Mapped[str | None] = mapped_column(String(48))
    disposition: Mapped[str | None] = mapped_column(String(48))
    referral: Mapped[str | None] = mapped_column(String(48))
    referral_other: Mapped[str | None] = mapped_column(String(200))
    # Optional, for reporting only: ISO 3166 country code, and gender as the person gave it.
    nationality: Mapped[str | None] = mapped_column(String(2))
    gender: Mapped[str | None] = mapped_column(String(16))
    urgent_followup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who wrote a record of a consultation in person or online (a phone record has its call).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the write-up was done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[Call | None] = relationship()
