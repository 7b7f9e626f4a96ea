"""The models, one module per aggregate; importing this package registers them all."""
from hotline.models.audit import AuditEvent
from hotline.models.base import Base, UTCDateTime, utcnow
from hotline.models.call import Call, CallEvent
from hotline.models.callback import OPEN_STATES, AttemptOutcome, Callback, CallbackAttempt, CallbackState
from hotline.models.consultation import Channel, ConsultationRecord
from hotline.models.queue import QueueEntry, QueueState
from hotline.models.reference import Language, Office, Topic, sync_reference
from hotline.models.staff import SETTABLE_STATUSES, ApiToken, Role, Staff, StaffSkill, Status

__all__ = [
    "AuditEvent", "Base", "UTCDateTime", "utcnow", "Call", "CallEvent", "Channel", "ConsultationRecord",
    "Language", "Office", "Topic", "sync_reference", "SETTABLE_STATUSES", "ApiToken", "Role",
    "Staff", "StaffSkill", "Status", "QueueEntry", "QueueState", "Callback", "CallbackAttempt",
    "CallbackState", "AttemptOutcome", "OPEN_STATES",
]
