"""Where the time of one request goes: cProfile over repeated in-process GETs.

    .venv/bin/python bench/profile_endpoint.py / /api/v1/branches [--requests 300] [--top 25]

Sets up a fresh SQLite database with the demo data and collected static files in
a temporary directory (as bench/http_baseline.py does), then runs each path
through Django's full middleware stack in this process, first once to warm up,
then `--requests` times under cProfile, and prints the functions with the most
cumulative and own time, plus the SQL query count per request. Use it when
http_baseline reports a ratio below its goal.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_baseline import bench_env, set_up


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    ns = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rendao-profile-") as tmp:
        env = bench_env(Path(tmp))
        set_up(env)
        os.environ.update(env)
        # Profile in a child so that the settings are read from the bench
        # environment, not from whatever this interpreter imported first.
        code = _CHILD.format(paths=ns.paths, requests=ns.requests, top=ns.top)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-c", code], env=env, check=False)
        print(f"profiled in {time.monotonic() - started:.1f} s")
        return result.returncode


_CHILD = """
import cProfile, io, pstats, time
import django
django.setup()
from django.db import connection, reset_queries
from django.conf import settings
from django.test import Client

settings.DEBUG = False
client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="zh-hans")
for path in {paths!r}:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    connection.force_debug_cursor = True
    reset_queries()
    client.get(path)
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range({requests}):
        client.get(path)
    profiler.disable()
    per_request_ms = (time.perf_counter() - started) * 1000 / {requests}
    print(f"=== {{path}}: {{per_request_ms:.2f}} ms per request under cProfile, {{queries}} SQL queries")
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats({top})
        print(out.getvalue())
"""

if __name__ == "__main__":
    sys.exit(main())
