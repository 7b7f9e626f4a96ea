"""Staff: consultants, supervisors and admins, their skills, status and API tokens."""
from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.models.base import Base, UTCDateTime, utcnow


class Role(str, enum.Enum):
    consultant = "consultant"
    supervisor = "supervisor"
    admin = "admin"


class Status(str, enum.Enum):
    available = "available"
    offered = "offered"  # reserved for one call, their phone is ringing
    busy = "busy"
    wrap_up = "wrap_up"
    break_ = "break"
    offline = "offline"


# What staff may set through the API; `offered` only ever comes from a reservation.
SETTABLE_STATUSES = ("available", "busy", "wrap_up", "break", "offline")


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.consultant.value)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    office_code: Mapped[str] = mapped_column(ForeignKey("offices.code"))
    whisper_language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=Status.offline.value, index=True)
    status_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When they last became free: routing offers a call to the longest idle first.
    idle_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The call they are offered or on; set atomically by routing.reservation.
    current_call_sid: Mapped[str | None] = mapped_column(String(64))
    wrap_up_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Werkzeug's password hash (scrypt); None: they cannot log in to the staff web yet.
    password_hash: Mapped[str | None] = mapped_column(String(255))

    skills: Mapped[list["StaffSkill"]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def languages(self) -> list[str]:
        return sorted({s.language_code for s in self.skills})

    @property
    def topics(self) -> list[str]:
        return sorted({s.topic_code for s in self.skills})


class StaffSkill(Base):
    """One language x topic a consultant can handle."""

    __tablename__ = "staff_skills"
    __table_args__ = (
        UniqueConstraint("staff_id", "language_code", "topic_code"),
        # Who has a skill: routing.candidates looks consultants up by language x topic.
        Index("ix_staff_skills_language_topic", "language_code", "topic_code", "staff_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    language_code: Mapped[str] = mapped_column(ForeignKey("languages.code"))
    topic_code: Mapped[str] = mapped_column(ForeignKey("topics.code"))

    staff: Mapped[Staff] = relationship(back_populates="skills")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[Staff] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
