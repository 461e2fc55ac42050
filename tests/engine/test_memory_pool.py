"""The audit's Arrow memory pool: jemalloc unless the environment chose one."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa

CHILD = ("import pyarrow as pa; from slang.engine.memory_pool import prefer_jemalloc; "
         "print(prefer_jemalloc(), pa.default_memory_pool().backend_name)")


def _run(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=env, check=True)
    return done.stdout.strip()


def _has_jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
        return True
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return False


def test_jemalloc_is_chosen_when_available() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    expected = "jemalloc" if _has_jemalloc() else pa.default_memory_pool().backend_name
    assert _run(env) == f"{expected} {expected}"


def test_the_environment_choice_is_kept() -> None:
    env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"}
    assert _run(env) == "system system"
