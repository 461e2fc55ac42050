"""Test-wide settings."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Tests must not read or fill the developer's parse cache (~/.cache/slang): one private cache
# per test session, so cache hits are still exercised but never carried between runs.
os.environ.setdefault("SLANG_CACHE_DIR", tempfile.mkdtemp(prefix="slang-test-cache-"))


@pytest.fixture(scope="session")
def demo_bindings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`slang demo` data for the example estate, written once per session; its bindings file."""
    from click.testing import CliRunner

    from slang.cli import main

    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    return out / "bindings.yaml"


@pytest.fixture(scope="session")
def spark_session():  # type: ignore[no-untyped-def]
    """One local Spark session for the whole test run (starting one costs seconds): the SQL
    engine's Spark backend finds it active and reuses it instead of starting and stopping its
    own. Tests that use it are `slow`."""
    pytest.importorskip("pyspark.sql", reason="the spark extra is absent")
    from slang.engine.sql.spark import SparkBackend

    backend = SparkBackend("local[2]")  # owns the session: configured as audits configure it
    yield backend.spark
    backend.spark.stop()
