"""What the callbacks area erases when personal data outlives the retention period (hotline.retention
asks): the number a closed callback was to call."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from hotline.models import OPEN_STATES, Callback


def forget_numbers(session: Session, booked_before: datetime) -> int:
    """Erase the number of every closed callback booked before `booked_before` (aware, UTC), in the
    caller's transaction (not committed). A callback still open keeps the number it is to call,
    however old its booking. Returns how many numbers were erased."""
    return session.execute(
        update(Callback)
        .where(Callback.created_at < booked_before, Callback.number.is_not(None),
               Callback.state.not_in(OPEN_STATES))
        .values(number=None)
    ).rowcount
