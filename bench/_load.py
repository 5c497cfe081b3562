"""Bounded HTTP load generators for the bench scripts: wrk when installed, otherwise
a small Python client.

Both send GET requests to one loopback URL from a fixed number of connections for a
fixed time and report requests per second and latency percentiles. They stop by
themselves: the Python client also has a hard cap on the number of requests.
"""

from __future__ import annotations

import http.client
import math
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

# Loopback only: the bench never sends traffic anywhere else.
HOST = "127.0.0.1"
# Safety cap for the Python client, whatever the duration.
MAX_REQUESTS = 500_000


@dataclass(frozen=True)
class LoadResult:
    path: str
    tool: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def percentile(sorted_samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted samples."""
    if not sorted_samples:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_samples)))
    return sorted_samples[min(rank, len(sorted_samples)) - 1]


def _python_worker(
    port: int, path: str, deadline: float, budget: list[int], lock: threading.Lock, out: list[float]
) -> int:
    """Send requests until the deadline; return the number of failures.

    gunicorn's sync workers close the connection after every response, so the
    connection is reopened whenever the server closes it; with a keep-alive server
    the same connection is reused.
    """
    errors = 0
    conn: http.client.HTTPConnection | None = None
    while time.perf_counter() < deadline:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        if conn is None:
            conn = http.client.HTTPConnection(HOST, port, timeout=10)
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Host": HOST, "Accept-Language": "zh-hans"})
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = None
            continue
        out.append(time.perf_counter() - started)
        if response.status >= 400:
            errors += 1
        if response.will_close:
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    return errors


def python_load(port: int, path: str, *, connections: int, seconds: float) -> LoadResult:
    lock = threading.Lock()
    budget = [MAX_REQUESTS]
    samples: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    started = time.perf_counter()
    deadline = started + seconds

    def run(index: int) -> None:
        errors[index] = _python_worker(port, path, deadline, budget, lock, samples[index])

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = time.perf_counter() - started
    latencies = sorted(s for per_thread in samples for s in per_thread)
    return LoadResult(
        path=path,
        tool="python",
        requests=len(latencies),
        errors=sum(errors),
        seconds=elapsed,
        rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk_ms(text: str, label: str) -> float:
    match = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk output has no {label!r} line:\n{text}")
    return float(match[1]) * _UNITS_MS[match[2]]


def wrk_load(port: int, path: str, *, connections: int, seconds: float) -> LoadResult:
    threads = min(2, connections)
    result = subprocess.run(
        [  # noqa: S607 - wrk from PATH, as installed by the distribution
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-H",
            "Accept-Language: zh-hans",
            f"http://{HOST}:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    text = result.stdout
    total = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", text, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    if not total or not rps:
        raise RuntimeError(f"cannot parse wrk output:\n{text}")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non_2xx:
        errors += int(non_2xx[1])
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket_errors:
        # A sync gunicorn worker closes each connection after the response;
        # wrk counts some of those closes as read errors, so only connect,
        # write and timeout errors are failures.
        errors += int(socket_errors[1]) + int(socket_errors[3]) + int(socket_errors[4])
    unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total[3]]
    return LoadResult(
        path=path,
        tool="wrk",
        requests=int(total[1]),
        errors=errors,
        seconds=float(total[2]) * unit,
        rps=float(rps[1]),
        p50_ms=_wrk_ms(text, "50%"),
        p99_ms=_wrk_ms(text, "99%"),
    )


def load(port: int, path: str, *, connections: int, seconds: float, tool: str = "auto") -> LoadResult:
    """Measure one endpoint with wrk if available (or asked for), else Python."""
    if tool == "wrk" or (tool == "auto" and wrk_available()):
        return wrk_load(port, path, connections=connections, seconds=seconds)
    return python_load(port, path, connections=connections, seconds=seconds)
