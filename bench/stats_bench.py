"""The Ministry's totals on a national data set, against a plain SQL GROUP BY in the same run.

    python bench/stats_bench.py postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_bench [runs]

Make the data first with bench/national_data.py. Each query runs `runs` times (after one
warm-up); the median is reported, with its ratio to the median of the plain query.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from sqlalchemy import text

BASELINE = """
SELECT e.municipality_id, count(*), sum(r.party_size)
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.status = 'confirmed'
GROUP BY e.municipality_id
"""


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up: plans and caches, as a running server has them
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(url: str, runs: int) -> dict:
    """Every totals query's median against the plain GROUP BY's, on the data at `url`."""
    from eventsvc import create_app
    from eventsvc.extensions import db
    from eventsvc.services import stats
    from eventsvc.services.stats import GroupBy, StatsFilter
    from eventsvc.timezones import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" * 8})
    with app.app_context(), app.test_request_context("/"):
        registrations = db.session.scalar(text("SELECT count(*) FROM registrations"))
        events = db.session.scalar(text("SELECT count(*) FROM events"))
        now, everything = utcnow(), StatsFilter()
        baseline = median_ms(lambda: db.session.execute(text(BASELINE)).all(), runs)
        cases = [("headline totals", lambda: stats.headline(everything, None, now))]
        cases += [
            (f"by {g.value}", lambda g=g: stats.breakdown(g, everything, None, now))
            for g in GroupBy
        ]
        rows = [{"query": "plain GROUP BY", "ms": baseline, "ratio": 1.0}]
        for name, fn in cases:
            ms = median_ms(fn, runs)
            rows.append({"query": name, "ms": ms, "ratio": ms / baseline})
        db.session.remove()
        db.engine.dispose()
    return {
        "events": events,
        "registrations": registrations,
        "cores": os.cpu_count(),
        "runs": runs,
        "rows": rows,
    }


def main(url: str, runs: int) -> None:
    result = measure(url, runs)
    print(
        f"# {result['events']} events, {result['registrations']} registrations; {result['cores']} cores; median of {runs} runs"
    )
    print(f"{'query':<22} {'ms':>8} {'× plain GROUP BY':>18}")
    for row in result["rows"]:
        print(f"{row['query']:<22} {row['ms']:8.1f} {row['ratio']:18.2f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
