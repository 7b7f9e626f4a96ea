"""How long matching one spoken answer takes (ivr.choices.choose with the keywords it is given in
the flow), for the language and the topic menu, matched and not: median and p90 in microseconds
over --samples calls, in this process, with the packaged catalogue (HOTLINE_CONFIG if set).

    .venv/bin/python bench/answer_matching.py [--samples 2000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.catalogue import load_catalogue  # noqa: E402
from ivr import choices  # noqa: E402

CASES = [  # (menu, heard in, what was said)
    ("language", "en", "Russki, please"), ("language", "en", "Klingon, bitte"), ("language", "ar", "بالعربي"),
    ("topic", "tr", "İkiye basıyorum."), ("topic", "ar", "اتنين"), ("topic", "ru", "что-то непонятное"),
]


def _timed(call, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e6)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    catalogue = load_catalogue(os.environ.get("HOTLINE_CONFIG"))
    languages = {lang.digit: lang.code for lang in catalogue.languages}
    topics = {topic.digit: topic.code for topic in catalogue.topics}
    print(f"{'menu':<9} {'heard':<6} {'said':<22} {'chose':<10} {'median us':>10} {'p90 us':>8}")
    for menu, heard, said in CASES:
        if menu == "language":
            def call(said=said, heard=heard):
                return choices.choose(None, said, languages, choices.language_keywords(catalogue), catalogue,
                                      [heard])
        else:
            def call(said=said, heard=heard):
                return choices.choose(None, said, topics, choices.topic_keywords(catalogue, heard), catalogue,
                                      [heard, "en"])
        times = sorted(_timed(call, args.samples))
        print(f"{menu:<9} {heard:<6} {said:<22} {call() or '-':<10} {statistics.median(times):>10.1f} "
              f"{times[int(len(times) * 0.9)]:>8.1f}")


if __name__ == "__main__":
    main()
