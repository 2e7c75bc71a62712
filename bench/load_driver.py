"""The load process: a small asyncio + aiohttp driver.

Closed loop (the default): `concurrency` clients each send one request, wait for the whole
answer, then send the next, until the list of jobs is used up: how much the server can do.
Paced (open loop, `rate` requests a second): request i is due at start + i / rate and goes
out as soon as it is due and one of the `concurrency` clients is free; its latency counts
from when it was due, so a queue in front of a busy server is measured, not hidden
(no "coordinated omission"): what a visitor waits at a given load. Every answer's status, latency and (when asked) JSON body
is kept, so the bench can check what the server said as well as how fast.

Why this and not locust or httpx: on a 2-core machine the driver shares the cores with
gunicorn and PostgreSQL, so every millisecond of CPU it spends per request is taken from the
server being measured. Sync gunicorn workers close each connection, so every request is a
new TCP connection; measured here (one client, POST /bench/baseline): httpx.AsyncClient
3.5 ms of driver CPU per request, aiohttp 1.4 ms (its HTTP parser is C). Locust would add
gevent and its statistics machinery on top of an HTTP client. The bench also needs every
answer's body to verify the outcome (waiting-list positions, "already checked in"), and one
run must do setup, load and verification in order, which a plain function does simply.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiohttp


@dataclass(frozen=True)
class Job:
    method: str
    path: str
    body: dict | None = None


@dataclass
class RunResult:
    name: str
    concurrency: int
    seconds: float  # wall time from the first request to the last answer
    latencies_ms: list[float]  # in the order the answers arrived
    statuses: Counter
    bodies: list  # parsed JSON per job, in job order (None unless keep_bodies)
    errors: list[str] = field(default_factory=list)  # transport errors (no HTTP answer)
    driver_cpu_s: float = 0.0  # CPU time the driver itself used during the run
    machine_busy: float = 0.0  # share of all cores busy during the run (from /proc/stat)
    rate: float | None = None  # paced: requests a second asked for; None: closed loop

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in ms."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    def summary(self) -> dict:
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "throughput_rps": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 2),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": len(self.errors),
            "driver_cpu_s": round(self.driver_cpu_s, 2),
            "machine_busy": round(self.machine_busy, 3),
            "rate": self.rate,
        }


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_share(seconds: float = 1.0) -> float:
    """How busy all cores are over `seconds` (0..1): other work on the machine skews a run."""
    busy_before, total_before = _cpu_times()
    time.sleep(seconds)
    busy_after, total_after = _cpu_times()
    return (
        (busy_after - busy_before) / (total_after - total_before)
        if total_after > total_before
        else 0.0
    )


def wait_for_quiet(limit: float = 0.10, patience: float = 120.0) -> float:
    """Wait (up to `patience` seconds) until the machine is idle but for `limit`; returns the
    last share seen, which the report shows next to each run."""
    deadline = time.monotonic() + patience
    share = busy_share()
    while share > limit and time.monotonic() < deadline:
        share = busy_share(2.0)
    return share


async def _run(
    base_url: str,
    name: str,
    jobs: Sequence[Job],
    concurrency: int,
    headers_for: Callable[[int], dict] | None,
    keep_bodies: bool,
    rate: float | None,
) -> RunResult:
    latencies: list[float] = []
    statuses: Counter = Counter()
    bodies: list = [None] * len(jobs)
    errors: list[str] = []
    next_job = iter(range(len(jobs)))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)

    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:

        async def client_loop(worker: int) -> None:
            headers = {
                "Content-Type": "application/json",
                **(headers_for(worker) if headers_for else {}),
            }
            for (
                index
            ) in next_job:  # shared iterator: each job is sent once, by whichever client is free
                job = jobs[index]
                data = json.dumps(job.body).encode() if job.body is not None else b""
                if rate:
                    due = began + index / rate
                    if due > time.perf_counter():
                        await asyncio.sleep(due - time.perf_counter())
                    started = due  # late because every client was busy: the visitor waited too
                else:
                    started = time.perf_counter()
                try:
                    async with session.request(
                        job.method, job.path, data=data, headers=headers
                    ) as response:
                        content = await response.read()
                        status = response.status
                except (TimeoutError, aiohttp.ClientError) as exc:
                    errors.append(f"{job.method} {job.path}: {exc!r}")
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[status] += 1
                if keep_bodies:
                    try:
                        bodies[index] = json.loads(content)
                    except ValueError:
                        bodies[index] = {"_text": content[:200].decode(errors="replace")}

        cpu_before, (busy_before, total_before) = time.process_time(), _cpu_times()
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(w) for w in range(concurrency)))
        seconds = time.perf_counter() - began
        cpu_after, (busy_after, total_after) = time.process_time(), _cpu_times()

    busy = (
        (busy_after - busy_before) / (total_after - total_before)
        if total_after > total_before
        else 0.0
    )
    return RunResult(
        name,
        concurrency,
        seconds,
        latencies,
        statuses,
        bodies,
        errors,
        driver_cpu_s=cpu_after - cpu_before,
        machine_busy=busy,
        rate=rate,
    )


def run(
    base_url: str,
    name: str,
    jobs: Sequence[Job],
    concurrency: int,
    headers_for: Callable[[int], dict] | None = None,
    keep_bodies: bool = False,
    rate: float | None = None,
) -> RunResult:
    """Send every job once with `concurrency` clients (paced at `rate` a second if given);
    `headers_for(client)` adds per-client headers (e.g. each door scanner's own API token)."""
    return asyncio.run(_run(base_url, name, jobs, concurrency, headers_for, keep_bodies, rate))
