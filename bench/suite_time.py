"""Wall time of the test suite on SQLite, run the way the README says.

    .venv/bin/python bench/suite_time.py

Takes the pytest invocation from the README's test command (the second line of its
first code block, after the last `&&`, so the README and this figure cannot drift
apart), runs it in a subprocess from the repository root with no DATABASE_URL (so
on SQLite) and prints `suite_wall_s=… tests=…` (plus passed/failed/skipped) as its
last line. Goal: under 2 minutes on 2 cores.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 1800


def readme_test_command() -> list[str]:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    fences = [i for i, line in enumerate(lines) if line.startswith("```")]
    block = [line for line in lines[fences[0] + 1 : fences[1]] if line.strip()]
    pytest_part = block[1].split("&&")[-1].strip()
    argv = shlex.split(pytest_part)
    if not argv or not argv[0].endswith("pytest"):
        raise RuntimeError(f"the README's test command does not end with pytest: {block[1]!r}")
    return argv


def count(summary: str, word: str) -> int:
    match = re.search(rf"(\d+) {word}", summary)
    return int(match[1]) if match else 0


def main() -> int:
    argv = readme_test_command()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("RENDAO_")
        and name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    started = time.monotonic()
    result = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    wall = time.monotonic() - started
    tail = result.stdout.strip().splitlines()[-1:] or [""]
    summary = tail[0]
    print(f"command: {' '.join(argv)}  (exit code {result.returncode})")
    print(f"summary: {summary}")
    passed, failed = count(summary, "passed"), count(summary, "failed") + count(summary, "error")
    skipped = count(summary, "skipped")
    print(
        f"suite_wall_s={wall:.1f} tests={passed + failed + skipped} passed={passed} "
        f"failed={failed} skipped={skipped}"
    )
    return 0 if result.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
