"""Test-wide settings."""

from __future__ import annotations

import os
import tempfile

# Tests must not read or fill the developer's parse cache (~/.cache/slang): one private cache
# per test session, so cache hits are still exercised but never carried between runs.
os.environ.setdefault("SLANG_CACHE_DIR", tempfile.mkdtemp(prefix="slang-test-cache-"))
