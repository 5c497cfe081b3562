"""Time from a fresh clone to the first page served by `rendao demo`.

    .venv/bin/python bench/demo_time.py [--worktree] [--python python3]

Follows the README's first command in a temporary directory: clone the repository
(its committed HEAD; --worktree copies the working tree instead, uncommitted files
included), create a virtual environment, `pip install -c constraints.txt -e .`,
then start `rendao demo --port <free port>` and poll http://127.0.0.1:<port>/
until it answers 200. The demo is stopped afterwards and the directory removed.

Figures (seconds, last line): clone_s, install_s (venv + pip), setup_s (demo start
until it prints that the server is starting: migrate, demo data, collectstatic),
first_page_s (demo start until the first 200 from /), total_s (clone to first page).
pip uses its normal cache, so install_s is a warm-cache figure on a machine that
has installed rendao before.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
READY_TIMEOUT_S = 300
READY_LINE = "rendao demo is starting"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """The caller's environment without anything that configures rendao."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("RENDAO_")
        and name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV"}
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> None:
    result = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-3000:]}")


def copy_worktree(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def page_ok(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", "/", headers={"Host": HOST})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the demo's process group (it stops gunicorn and the worker), then
    SIGKILL whatever is left."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--worktree", action="store_true", help="copy the working tree instead of cloning HEAD"
    )
    parser.add_argument("--python", default="python3", help="interpreter that creates the venv")
    ns = parser.parse_args()
    env = clean_env()

    with tempfile.TemporaryDirectory(prefix="rendao-demo-bench-") as tmp:
        clone = Path(tmp) / "rendao"
        t0 = time.monotonic()
        if ns.worktree:
            copy_worktree(clone)
        else:
            run(["git", "clone", "--quiet", str(REPO), str(clone)], Path(tmp), env)
        t_cloned = time.monotonic()
        run([ns.python, "-m", "venv", ".venv"], clone, env)
        run([".venv/bin/pip", "install", "-q", "-c", "constraints.txt", "-e", "."], clone, env)
        t_installed = time.monotonic()

        port = free_port()
        output: list[str] = []
        ready_at: list[float] = []
        demo = subprocess.Popen(
            [str(clone / ".venv/bin/rendao"), "demo", "--port", str(port)],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

        def read_output() -> None:
            assert demo.stdout is not None
            for line in demo.stdout:
                output.append(line)
                if READY_LINE in line and not ready_at:
                    ready_at.append(time.monotonic())

        reader = threading.Thread(target=read_output, daemon=True)
        reader.start()
        first_page_at = None
        try:
            deadline = t_installed + READY_TIMEOUT_S
            while time.monotonic() < deadline and demo.poll() is None:
                if page_ok(port):
                    first_page_at = time.monotonic()
                    break
                time.sleep(0.1)
        finally:
            stop(demo)
            reader.join(5)
        if first_page_at is None:
            print("".join(output[-60:]))
            print(f"the demo did not serve / (exit code {demo.returncode})")
            return 1
        setup_end = ready_at[0] if ready_at else first_page_at

    figures = {
        "clone_s": t_cloned - t0,
        "install_s": t_installed - t_cloned,
        "setup_s": setup_end - t_installed,
        "first_page_s": first_page_at - t_installed,
        "total_s": first_page_at - t0,
    }
    print(" ".join(f"{name}={value:.1f}" for name, value in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
