"""HTTP baseline: public home page and an API list endpoint against /healthz.

    .venv/bin/python bench/http_baseline.py [--seconds 10] [--connections 4] [--tool auto|wrk|python]

Sets up a fresh SQLite database with the demo data in a temporary directory,
starts gunicorn with 2 sync workers on a free loopback port, measures each endpoint
for a fixed time with a bounded load generator (wrk when installed, else the Python
client in bench/_load.py), stops the server and prints the figures; the last line
is `name=value …`. The ratios (endpoint rps / health rps, measured on the same
server in the same run) are what to compare between machines; the goal is ≥ 0.5.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import HOST, LoadResult, load, wrk_available

REPO = Path(__file__).resolve().parents[1]
API_LIST = "/api/v1/branches"
API_FALLBACK = "/api/v1/health"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def bench_env(data_dir: Path) -> dict[str, str]:
    """A development configuration on SQLite in data_dir, nothing inherited that
    would point the server at another database or queue."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("RENDAO_") or name in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}:
            del env[name]
    env.update(
        DJANGO_SETTINGS_MODULE="rendao.settings",
        RENDAO_DATA_DIR=str(data_dir),
        RENDAO_ALLOWED_HOSTS=HOST,
        RENDAO_LOG_LEVEL="WARNING",
        # An empty rate switches the API throttle off: from one loopback address
        # every request would otherwise be refused with 429 after the first 120,
        # and the figure would measure the limiter's refusals, not the endpoint.
        RENDAO_API_ANON_RATE="",
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rendao.cli", "manage", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )


def set_up(env: dict[str, str]) -> bool:
    """Migrate, load the demo data if the command exists, collect static files.

    Returns whether demo data was loaded.
    """
    manage(env, "migrate", "--no-input", "-v", "0")
    commands = manage(env, "help", "--commands").stdout.split()
    has_demo = "load_demo" in commands
    if has_demo:
        manage(env, "load_demo")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    return has_demo


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": HOST})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode} before it was ready")
        try:
            if get(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "rendao.wsgi:application",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                # No --access-logfile: access logging is off by default.
                "--error-logfile",
                "-",
                "--timeout",
                "30",
            ],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Its own process group, so that stopping it cannot touch anything else.
            start_new_session=True,
        )


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def describe(result: LoadResult) -> str:
    return (
        f"{result.path:<20} {result.rps:9.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
        f"p99 {result.p99_ms:7.2f} ms  ({result.requests} requests, {result.errors} errors, {result.tool})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time per endpoint first")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    ns = parser.parse_args()
    tool = ns.tool if ns.tool != "auto" else ("wrk" if wrk_available() else "python")

    with tempfile.TemporaryDirectory(prefix="rendao-bench-") as tmp:
        data_dir = Path(tmp)
        env = bench_env(data_dir)
        started = time.monotonic()
        has_demo = set_up(env)
        print(
            f"set-up (migrate{', load_demo' if has_demo else ''}, collectstatic): "
            f"{time.monotonic() - started:.1f} s"
        )
        if not has_demo:
            print("note: no load_demo command yet; measured on an empty database")

        port = free_port()
        log = data_dir / "gunicorn.log"
        server = start_server(env, port, log)
        try:
            wait_ready(port, server)
            api_path = API_LIST
            status, _ = get(port, API_LIST)
            if status != 200:
                print(f"note: {API_LIST} answered {status}; measuring {API_FALLBACK} instead")
                api_path = API_FALLBACK
            for path in ("/", api_path):
                status, body = get(port, path)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
            print(
                f"gunicorn: 2 sync workers on {HOST}:{port}; load: {tool}, {ns.connections} connections, "
                f"{ns.seconds:g} s per endpoint after {ns.warmup:g} s warm-up; cores: {os.cpu_count()}"
            )

            results: dict[str, LoadResult] = {}
            for name, path in (("health", "/healthz"), ("home", "/"), ("api", api_path)):
                if ns.warmup > 0:
                    load(port, path, connections=ns.connections, seconds=ns.warmup, tool=tool)
                results[name] = load(port, path, connections=ns.connections, seconds=ns.seconds, tool=tool)
                print(describe(results[name]))
        except Exception:
            # The server's own log says why a page failed; the bench's traceback does not.
            print(log.read_text(errors="replace")[-3000:])
            raise
        finally:
            stop_server(server)

    failed = {name: r.errors for name, r in results.items() if r.errors}
    if failed:
        print(f"warning: failed requests {failed}")
    health, home, api = results["health"], results["home"], results["api"]
    figures = {
        "health_rps": f"{health.rps:.1f}",
        "home_rps": f"{home.rps:.1f}",
        "api_rps": f"{api.rps:.1f}",
        "home_p50_ms": f"{home.p50_ms:.2f}",
        "home_p99_ms": f"{home.p99_ms:.2f}",
        "api_p50_ms": f"{api.p50_ms:.2f}",
        "api_p99_ms": f"{api.p99_ms:.2f}",
        "health_p99_ms": f"{health.p99_ms:.2f}",
        "home_ratio": f"{home.rps / health.rps:.2f}",
        "api_ratio": f"{api.rps / health.rps:.2f}",
    }
    print(" ".join(f"{key}={value}" for key, value in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
