"""Plain-text building blocks shared by the renderers of `slang status` and `slang diagnose`."""

from __future__ import annotations

from collections.abc import Sequence

from slang.engine.calendar_time import from_us
from slang.report.audit_report import rfc3339


def instant_text(us: int) -> str:
    """An instant (UTC microseconds) as RFC 3339 UTC, as every report writes instants."""
    return rfc3339(from_us(us))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart, a dashed rule under the header, no trailing
    blanks: the layout of `slang audit`'s text report."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out
