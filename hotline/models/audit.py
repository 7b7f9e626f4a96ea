"""The audit trail of the staff web: logins (and failed ones), logouts, password and staff changes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.models.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    # login, login_failed, logout, password_set, staff_added, staff_changed, staff_deactivated,
    # staff_reactivated, token_revoked
    kind: Mapped[str] = mapped_column(String(32), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)  # whom it is about
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # who did it (None: themselves)
    # What happened, never a password; addresses as a keyed hash (personal data).
    detail: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
