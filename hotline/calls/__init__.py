"""The call record and its journal, changed only here: opened by the first webhook (opening),
changed and journalled at each step (changes), closed by the status callback into a consultation
record (closing); what PostgreSQL and SQLite cannot share sits side by side in statements. Every
function is safe to run again for a retried webhook. Other modules call `calls.x(...)`."""
from hotline.calls.changes import (
    answer,
    change,
    forget_caller_numbers,
    has_changes,
    journal,
    record_event,
)
from hotline.calls.closing import close_call, past_call
from hotline.calls.opening import CALL_EXPRESSIONS, open_call, open_placed_call
from hotline.calls.reading import (
    FINAL_STATUSES,
    consultants_with,
    find_call,
    lock_call,
    offered_consultants,
)

__all__ = [
    "CALL_EXPRESSIONS", "FINAL_STATUSES", "answer", "change", "close_call", "consultants_with", "find_call",
    "forget_caller_numbers", "has_changes", "journal", "lock_call", "offered_consultants", "open_call",
    "open_placed_call", "past_call", "record_event",
]
