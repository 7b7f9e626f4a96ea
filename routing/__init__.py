"""Routing: which consultant takes a call, the queues callers wait in, and the offer lifecycle that
rings a consultant for a caller. This facade is routing's whole public surface; other areas call
these functions and never import routing's modules.

- Live calls: offer_call, accept, release, finish, free_holders, set_status, effective_status,
  candidates, anyone_free, language_on_duty.
- Who may take a waiting caller now (the rule the pick follows, for the figures and the sweep):
  pick_rules, PickRules, tiers, free_takers, waiting_takers.
- Queues: enqueue, enqueue_waiting, entry_for_call, position, estimated_wait,
  queue_figures, wait_figures, accept_languages, widen_entry, claim, unclaim, mark_bridged, unbridge, leave,
  mark_left.
- Offers: caller_may_be_served, consultant_may_be_free, find_consultant, offer_not_taken,
  on_offer_status, call_ended, consultant_status_changed, cancel_leg, office_rule,
  register_ringer; pair_consultants (many free consultants at once, their phones rung together);
  its RQ jobs are in routing.jobs.
- Calls: end_call (what a final status callback does); the sweep also ends calls whose final
  status was lost (routing.call_end), legs another area dialled by the closer it registered
  (register_leg_closer).
"""
from __future__ import annotations

from routing.call_end import END_CALL_LOADS, ROUTING_LOADS, end_call, register_leg_closer
from routing.candidates import LANGUAGES_ON_DUTY, anyone_free, candidates, free_consultants, language_on_duty
from routing.offers import (
    CALLBACK,
    call_ended,
    caller_may_be_served,
    cancel_leg,
    consultant_may_be_free,
    consultant_status_changed,
    find_consultant,
    offer_not_taken,
    office_rule,
    on_offer_status,
    pick_rules,
    register_ringer,
)
from routing.pair_many import pair_consultants
from routing.pairing import caller_for, consultant_for, offer_call, reserve_for_call
from routing.pick_next import OfficeRule, next_caller_for
from routing.queues import (
    accept_languages,
    claim,
    enqueue,
    enqueue_waiting,
    entry_for_call,
    estimated_wait,
    insert_entry,
    leave,
    mark_bridged,
    mark_left,
    position,
    queue_figures,
    unbridge,
    unclaim,
    unclaim_stale,
    wait_figures,
    widen_entry,
)
from routing.reservation import (
    accept,
    effective_status,
    finish,
    free_holders,
    holders,
    release,
    reserve,
    set_status,
)
from routing.takers import PickRules, free_takers, tiers, waiting_takers

__all__ = [
    "CALLBACK", "END_CALL_LOADS", "LANGUAGES_ON_DUTY", "OfficeRule", "PickRules", "ROUTING_LOADS", "accept",
    "anyone_free", "free_takers", "pick_rules", "tiers", "waiting_takers",
    "accept_languages", "call_ended", "caller_for",
    "caller_may_be_served", "candidates", "cancel_leg", "claim", "consultant_for", "consultant_may_be_free",
    "consultant_status_changed", "effective_status", "end_call", "enqueue", "enqueue_waiting",
    "entry_for_call", "estimated_wait", "find_consultant", "finish", "free_consultants", "free_holders",
    "holders", "insert_entry",
    "language_on_duty", "leave", "mark_bridged", "mark_left", "next_caller_for", "offer_call",
    "offer_not_taken", "office_rule", "on_offer_status", "pair_consultants", "position", "queue_figures",
    "register_leg_closer", "register_ringer", "release", "reserve", "reserve_for_call", "set_status",
    "unbridge", "unclaim", "unclaim_stale", "wait_figures", "widen_entry",
]
