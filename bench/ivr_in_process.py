#!/usr/bin/env python3
"""CPU per IVR webhook in one process: the app's own cost, without gunicorn, sockets or the load
generator's processes competing for the CPUs.

    .venv/bin/python bench/ivr_in_process.py [--postgres URL] [--calls 300] [--profile [--sort tottime]]

Builds the same throwaway hotline as ivr_throughput.py (its make_database: SQLite in a temp dir,
or a temporary database on the PostgreSQL server at --postgres, dropped afterwards; six available
consultants) and answers whole calls through Flask's test client, each webhook signed as Twilio
signs it: /ivr/voice, /ivr/language (Digits weighted as in ivr_throughput.py), /ivr/topic (Digits
1-6), and /ivr/status (completed) eight calls later, so that consultants are reserved and some
callers queued. 40 calls warm up first (statement caches, prepared statements). Prints the
process's CPU time (user + system, time.process_time) per request of the mix and per webhook, in
ms; it includes the test client's own work (building the request, about a tenth), the same for
every version of the app, so compare two trees (`REPO=<checkout>`) in one sitting, alternated:
on a shared machine the same code drifts by 10-20% within minutes. `--app floor` answers with
bench/floor_app.py instead (the same requests; it reads, writes and journals the call for each),
`--app bare` with bench/bare_app.py (fixed TwiML): the three side by side split a request's cost
into the test client's and Flask's, the stack's floor, and the hotline's own.
`--profile` then answers --calls more calls under cProfile, after the measured ones: their Python
function calls per request, which are counted exactly and so compare two versions where CPU time
cannot, and the profile; the CPU time of those calls includes the profiler's own and is printed
apart, labelled so, never as the plain run's. An answer that is not a 200 <Response>, or the
apology TwiML (technical problem), stops the run and is printed. Twilio's REST API is a stand-in
on this machine (bench/stand_ins.py); what it was asked is printed. Not part of the test suite;
about 10 s (twice that with --profile).
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(os.environ.get("REPO", Path(__file__).resolve().parent.parent)).resolve()
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))
sys.path.append(str(Path(__file__).resolve().parent))  # stand_ins, for a REPO from before it

import ivr_throughput as load  # noqa: E402
from stand_ins import TwilioStandIn, adopt, hotline_env, in_process_app  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

BASE_URL = "http://bench.local"
WARM_UP_CALLS = 40
STATUS_LAG = 8  # calls between a call's topic and its status callback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL, in a throwaway database")
    parser.add_argument("--calls", type=int, default=300, help="measured calls (4 webhooks each)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the measured calls")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (pstats keys)")
    parser.add_argument("--app", choices=("hotline", "floor", "bare"), default="hotline",
                        help="what answers: the hotline, bench/floor_app.py or bench/bare_app.py")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url, drop = load.make_database(args.postgres, tmp)
    try:
        with TwilioStandIn() as api:
            env = hotline_env(url, api.url, instance=tmp / "instance", public_base_url=BASE_URL)
            run(args, env)
            for line in api.summary():
                print(line)
    finally:
        drop()


STEPS = ("voice", "language", "topic", "status")


class Caller:
    """Whole calls through Flask's test client, each request's CPU time (and, if profiled, its
    Python function calls) kept per webhook."""

    def __init__(self, client, rng: random.Random, apology: str) -> None:
        self.client, self.rng, self.apology = client, rng, apology.encode()
        self.validator = RequestValidator(load.AUTH_TOKEN)
        self.cost: dict[str, list[float]] = collections.defaultdict(list)
        self.profiles: dict[str, cProfile.Profile] = {}
        self.ended: list[dict] = []

    def send(self, step: str, path: str, params: dict[str, str]) -> None:
        signature = self.validator.compute_signature(BASE_URL + path, params)
        profile = self.profiles.get(step)
        start = time.process_time()
        if profile:  # enabled around the request only, not the signing above
            profile.enable()
        answer = self.client.post(path, data=params, headers={"X-Twilio-Signature": signature},
                                  base_url=BASE_URL)
        if profile:
            profile.disable()
        self.cost[step].append(time.process_time() - start)
        if answer.status_code != 200 or b"<Response" not in answer.data or self.apology in answer.data:
            raise SystemExit(f"failure: {path} answered {answer.status_code}: {answer.data[:300]!r}")

    def one_call(self) -> None:
        rng = self.rng
        call = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": load.ACCOUNT_SID,
                "From": f"+35988{rng.randrange(10**7):07d}", "To": rng.choice(load.OFFICE_NUMBERS),
                "ApiVersion": "2010-04-01", "Direction": "inbound"}
        self.send("voice", "/ivr/voice", {**call, "CallStatus": "ringing"})
        self.send("language", "/ivr/language?attempt=0",
                  {**call, "CallStatus": "in-progress", "Digits": rng.choice(load.LANGUAGE_DIGITS)})
        self.send("topic", "/ivr/topic?attempt=0",
                  {**call, "CallStatus": "in-progress", "Digits": str(rng.randint(1, 6))})
        self.ended.append(call)
        if len(self.ended) > STATUS_LAG:
            self.send("status", "/ivr/status",
                      {**self.ended.pop(0), "CallStatus": "completed", "CallDuration": "60"})


def run(args, env: dict[str, str]) -> None:
    if args.app == "hotline":
        app = in_process_app(env)
    else:
        adopt(env)  # what floor_app reads at import
        if args.app == "floor":
            from bench.floor_app import app
        else:
            from bench.bare_app import app

    caller = Caller(app.test_client(), random.Random(args.seed), load.apology_marker())
    for _ in range(WARM_UP_CALLS):
        caller.one_call()
    caller.cost.clear()
    for _ in range(args.calls):
        caller.one_call()
    print(cpu_line(args, caller.cost, "CPU per request"))
    if args.profile:
        caller.cost.clear()
        caller.profiles.update({step: cProfile.Profile(time.process_time) for step in STEPS})
        for _ in range(args.calls):
            caller.one_call()
        print(cpu_line(args, caller.cost, "under cProfile (NOT comparable: includes the profiler's "
                                          "overhead), CPU per request"))
        report_profile(args, caller)


def cpu_line(args, cost: dict[str, list[float]], label: str) -> str:
    """`label`, then the process's CPU time per request of the mix and per webhook, in ms."""
    requests = sum(len(times) for times in cost.values())
    backend = "PostgreSQL" if args.postgres else "SQLite"
    return (f"{REPO} ({args.app}) on {backend}, {args.calls} calls, load average {os.getloadavg()[0]:.2f}: "
            f"{label} {1000 * sum(map(sum, cost.values())) / requests:.2f} ms (" +
            ", ".join(f"{step} {1000 * sum(times) / len(times):.2f}" for step, times in cost.items()) + ")")


def report_profile(args, caller: Caller) -> None:
    cost = caller.cost
    requests = sum(len(times) for times in cost.values())
    # Python function calls are counted exactly, run after run: a steadier yardstick than CPU time
    # on a shared machine (though a call into C counts as much as a Python one).
    calls = {step: pstats.Stats(profile).total_calls for step, profile in caller.profiles.items()}
    print(f"Python function calls per request: {sum(calls.values()) / requests:,.0f} (" +
          ", ".join(f"{step} {calls[step] / len(cost[step]):,.0f}" for step in STEPS) + ")")
    pstats.Stats(*caller.profiles.values()).sort_stats(args.sort).print_stats(60)


if __name__ == "__main__":
    main()
