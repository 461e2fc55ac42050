"""Instants given by people: RFC 3339 with a zone, or `now`. Shared by the CLI and library."""

from __future__ import annotations

import datetime as dt
import re

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:\d{2})?"
)
AS_OF_EXAMPLE = "such as 2026-03-31T00:00:00Z or 2026-03-31T01:00:00+01:00, or `now`"


def parse_timestamp(value: str) -> dt.datetime:
    """An RFC 3339 timestamp with `Z` or an offset, or `now`, as an aware datetime.

    A naive timestamp is refused rather than guessed: the same policy checked on machines in
    two time zones must give the same answer. Raises `ValueError` with a message for people.
    """
    text = value.strip()
    if text.lower() == "now":
        return dt.datetime.now(dt.UTC)
    m = _RFC3339.fullmatch(text)
    if m is None:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(
                f"`{value}` is a date, not a timestamp: write {text}T00:00:00Z (midnight UTC) "
                "or give an offset"
            )
        raise ValueError(f"`{value}` is not an RFC 3339 timestamp: expected one {AS_OF_EXAMPLE}")
    if m["tz"] is None:
        raise ValueError(
            f"`{value}` has no time zone: add `Z` for UTC or an offset such as `+01:00`"
        )
    if m["tz"] in ("Z", "z"):
        tz = dt.UTC
    else:
        sign = -1 if m["tz"][0] == "-" else 1
        hours, minutes = int(m["tz"][1:3]), int(m["tz"][4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"`{value}` has an invalid offset `{m['tz']}`")
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    micro = int((m["frac"] or "0")[:6].ljust(6, "0"))
    try:
        day = dt.date.fromisoformat(m["date"])
        return dt.datetime(day.year, day.month, day.day, int(m["h"]), int(m["m"]), int(m["s"]),
                           micro, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"`{value}` is not a valid timestamp: {exc}") from None
