"""Routing: which consultant takes a call, the queues callers wait in, and the offer lifecycle that
rings a consultant for a caller. This facade is what the other areas (ivr, callbacks, dashboards,
the core) use of routing, and all they may import of it; routing's tests import its modules.

Routing owns two things nobody else writes: queue entries (routing.queues) and consultants'
status (routing.reservation); tests/hotline/test_table_owners.py checks it.

- Consultants: accept, release, finish, free_holders, holders, set_status, sign_off,
  effective_status, anyone_free, free_consultants, language_on_duty (LANGUAGES_ON_DUTY read with
  the call), reserve_for_call.
- Who may take a waiting caller now: pick_rules, tiers, waiting_takers.
- Queues: IN_QUEUE (still in the queue), enqueue_waiting, insert_entry, enqueue_callbacks
  (DueCallback), discard_entries, entry_for_call, accept_languages, widen_entry, mark_urgent,
  unclaim, mark_bridged, unbridge, leave, mark_left; what they tell: position, wait_figures,
  queue_figures.
- Offers: caller_may_be_served, consultant_may_be_free, find_consultant, pair_consultants,
  offer_not_taken, on_offer_status, call_ended, consultant_status_changed, cancel_leg,
  record_offer_leg; register_ringer (CALLBACK) for entries another area rings. Its RQ jobs are in
  routing.jobs.
- Calls: end_call (what a final status callback does; END_CALL_LOADS, ROUTING_LOADS read with the
  call); the sweep also ends calls whose final status was lost, legs another area dialled by the
  closer it registered (register_leg_closer).
"""
from __future__ import annotations

from routing.call_end import END_CALL_LOADS, ROUTING_LOADS, end_call, register_leg_closer
from routing.candidates import LANGUAGES_ON_DUTY, anyone_free, free_consultants, language_on_duty
from routing.figures import position, queue_figures, wait_figures
from routing.offers import (
    CALLBACK,
    call_ended,
    caller_may_be_served,
    cancel_leg,
    consultant_may_be_free,
    consultant_status_changed,
    find_consultant,
    offer_not_taken,
    on_offer_status,
    pick_rules,
    register_ringer,
)
from routing.pair_many import pair_consultants
from routing.pairing import reserve_for_call
from routing.queues import (
    IN_QUEUE,
    DueCallback,
    accept_languages,
    discard_entries,
    enqueue_callbacks,
    enqueue_waiting,
    entry_for_call,
    insert_entry,
    leave,
    mark_bridged,
    mark_left,
    mark_urgent,
    record_offer_leg,
    unbridge,
    unclaim,
    widen_entry,
)
from routing.reservation import (
    accept,
    effective_status,
    finish,
    free_holders,
    holders,
    release,
    set_status,
    sign_off,
)
from routing.takers import tiers, waiting_takers

__all__ = [
    "CALLBACK", "END_CALL_LOADS", "IN_QUEUE", "LANGUAGES_ON_DUTY", "ROUTING_LOADS", "DueCallback",
    "accept", "accept_languages", "anyone_free", "call_ended", "caller_may_be_served", "cancel_leg",
    "consultant_may_be_free", "consultant_status_changed", "discard_entries", "effective_status",
    "end_call", "enqueue_callbacks", "enqueue_waiting", "entry_for_call", "find_consultant", "finish",
    "free_consultants", "free_holders", "holders", "insert_entry", "language_on_duty", "leave",
    "mark_bridged", "mark_left", "mark_urgent", "offer_not_taken", "on_offer_status",
    "pair_consultants", "pick_rules", "position", "queue_figures", "record_offer_leg",
    "register_leg_closer", "register_ringer", "release", "reserve_for_call", "set_status", "sign_off",
    "tiers", "unbridge", "unclaim", "wait_figures", "waiting_takers", "widen_entry",
]
