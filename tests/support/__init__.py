"""What the tests share: arranging staff and calls (helpers), whole-call journeys through the signed
webhooks (journeys), the queue and its jobs (queueing), the one clock (clock), Redis outages
(outage) and booked or placed callbacks (placing). Helpers used by one area only stay beside its
tests (tests/browser/site.py, tests/contract/recording.py)."""
