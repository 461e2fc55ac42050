"""Which periods an agreement is evaluated over, as UTC instants, with their labels.

Periods are local: a London month starts at local midnight on the 1st, so October 2026 runs
from 2026-09-30T23:00Z to 2026-11-01T00:00Z and lasts 745 hours (§4.1). Everything here turns
the agreement's `period`, `timezone` and `effective` dates, plus the command line's
`--period` / `--from --to` / `--as-of`, into a list of `PeriodInstance`s; the engine then only
ever deals in UTC microseconds.

Selection rules (cli.md), in one place so every command reads them the same way:

- `--from D1 --to D2`: the periods whose *unclipped* start lies in `[D1 00:00, D2 + 1 day 00:00)`
  local time; `--period L` is the same over the local dates the label names, so `--period 2026-Q4`
  on a monthly agreement gives October, November and December.
- neither: the most recent complete period, the latest whose unclipped end is ≤ as_of.
- always: clipped to `effective` (local midnight of the first day to local midnight after the
  last), dropped when wholly outside it or when it starts at or after as_of; a period still
  running at as_of is kept with `complete=False`.
- rolling periods are one window `[as_of − length, as_of)` whatever the selection.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from slang.diagnostics import SlangError, error
from slang.engine.calendar_time import (
    DAY_US,
    HOUR_US,
    US,
    day_number,
    from_us,
    local_date,
    local_midnight_us,
    local_to_us,
    offset_pieces,
    to_us,
)
from slang.engine.intervals import I64, Array
from slang.semantics import model
from slang.syntax.span import COMMAND_LINE_SPAN

BAD_SELECTION = "SLG0010"
LABEL_FORMS = (
    "period labels are 2026 (year), 2026-Q4 (quarter), 2026-10 (month), 2026-W41 (ISO week), "
    "2026-10-05 (day) or 2026-10-05T14+01:00 (hour, with its UTC offset)"
)


@dataclass(frozen=True)
class PeriodInstance:
    """One period to evaluate: `[start_us, end_us)` after clipping to `effective`, and the
    nominal (unclipped) bounds that give its full length for prorating the fee."""

    label: str
    start_us: int
    end_us: int
    nominal_start_us: int
    nominal_end_us: int
    complete: bool  # end_us <= as_of

    @property
    def fee_fraction(self) -> Fraction:
        """The share of the period's fee owed for the clipped part, by time (§4.7): an agreement
        effective from the 16th pays for the time from the 16th, not for half the days."""
        return Fraction(self.end_us - self.start_us, self.nominal_end_us - self.nominal_start_us)

    @property
    def clipped(self) -> bool:
        return (self.start_us, self.end_us) != (self.nominal_start_us, self.nominal_end_us)

    @property
    def start(self) -> dt.datetime:
        return from_us(self.start_us)

    @property
    def end(self) -> dt.datetime:
        return from_us(self.end_us)


# ---------------------------------------------------------------------- local-date periods


def period_start_date(kind: str, d: dt.date) -> dt.date:
    """The first local date of the `kind` period holding `d` (weeks are ISO: Monday)."""
    if kind == "daily":
        return d
    if kind == "weekly":
        return d - dt.timedelta(days=d.weekday())
    if kind == "monthly":
        return d.replace(day=1)
    if kind == "quarterly":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    if kind == "yearly":
        return d.replace(month=1, day=1)
    raise ValueError(f"not a calendar-date period: {kind}")


def next_start_date(kind: str, d0: dt.date) -> dt.date:
    """The first date of the period after the one starting on `d0`."""
    if kind == "daily":
        return d0 + dt.timedelta(days=1)
    if kind == "weekly":
        return d0 + dt.timedelta(days=7)
    months = {"monthly": 1, "quarterly": 3, "yearly": 12}[kind]
    index = d0.year * 12 + d0.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def date_label(kind: str, d0: dt.date) -> str:
    """§4.1 labels; a week is named by its ISO week-year, so 2026-12-28 starts `2026-W53`."""
    if kind == "daily":
        return d0.isoformat()
    if kind == "weekly":
        year, week, _ = d0.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "monthly":
        return f"{d0.year}-{d0.month:02d}"
    if kind == "quarterly":
        return f"{d0.year}-Q{(d0.month - 1) // 3 + 1}"
    if kind == "yearly":
        return f"{d0.year}"
    raise ValueError(f"not a calendar-date period: {kind}")


def _offset_text(off_us: int) -> str:
    seconds = off_us // US
    sign = "-" if seconds < 0 else "+"
    h, rest = divmod(abs(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def hour_label(tz: str, start_us: int) -> str:
    """`2026-10-25T01+01:00`: local date and hour with the offset, so the two 01 hours of a
    fall-back night have different labels."""
    [label] = _hour_labels(tz, np.array([start_us], I64))
    return label


def _hour_labels(tz: str, starts: Array) -> list[str]:
    """Labels of many hours at once: local time is the instant plus the offset of its piece,
    formatted by numpy (a year of hourly periods is 8760 labels)."""
    if starts.size == 0:
        return []
    bounds, offsets = offset_pieces(tz, int(starts.min()), int(starts.max()) + 1)
    off = offsets[np.searchsorted(bounds, starts, side="right") - 1]
    local = np.datetime_as_string((starts + off).astype("datetime64[us]"), unit="h")
    texts = {int(o): _offset_text(int(o)) for o in np.unique(off)}
    return [f"{t}{texts[int(o)]}" for t, o in zip(local.tolist(), off.tolist(), strict=True)]


def hour_bounds(tz: str, lo_us: int, hi_us: int) -> Array:
    """Every instant in `[lo − 1 day, hi + 1 day]` where an hourly period begins: where local
    time is on the hour, and where the offset changes (the label changes there, and with a
    half-hour shift the hour is cut short). The day of margin makes the hour around `lo` and
    the one after `hi` complete."""
    bounds, offsets = offset_pieces(tz, lo_us - DAY_US, hi_us + DAY_US)
    marks = [bounds[1:-1]]
    for i in range(offsets.shape[0]):  # per offset piece
        p0, p1, off = int(bounds[i]), int(bounds[i + 1]), int(offsets[i])
        first = -((-(p0 + off)) // HOUR_US) * HOUR_US - off  # first local o'clock at or after p0
        marks.append(np.arange(first, p1, HOUR_US, dtype=I64))
    return np.unique(np.concatenate(marks))


Candidate = tuple[str, int, int]  # label, nominal start, nominal end


def _candidates(kind: str, tz: str, lo_us: int, hi_us: int) -> list[Candidate]:
    """The periods of `kind` whose unclipped start lies in `[lo, hi)`."""
    if hi_us <= lo_us:
        return []
    if kind == "hourly":
        b = hour_bounds(tz, lo_us, hi_us)
        idx = np.flatnonzero((b[:-1] >= lo_us) & (b[:-1] < hi_us))
        labels = _hour_labels(tz, b[idx])
        return list(zip(labels, b[idx].tolist(), b[idx + 1].tolist(), strict=True))
    last = local_date(tz, hi_us - 1)
    d0 = period_start_date(kind, local_date(tz, lo_us))
    starts = [d0]
    while starts[-1] <= last:  # per period
        starts.append(next_start_date(kind, starts[-1]))
    instants = local_to_us(tz, np.array([day_number(d) * DAY_US for d in starts], I64))
    return [
        (date_label(kind, starts[i]), int(instants[i]), int(instants[i + 1]))
        for i in range(len(starts) - 1)
        if lo_us <= instants[i] < hi_us
    ]


def _latest_complete(kind: str, tz: str, as_of_us: int) -> Candidate:
    """The period whose unclipped end is the latest one at or before as_of."""
    if kind == "hourly":
        b = hour_bounds(tz, as_of_us, as_of_us)
        i = int(np.searchsorted(b, as_of_us, side="right")) - 1  # b[i] <= as_of < b[i + 1]
        return hour_label(tz, int(b[i - 1])), int(b[i - 1]), int(b[i])
    current = period_start_date(kind, local_date(tz, as_of_us))
    previous = period_start_date(kind, current - dt.timedelta(days=1))
    start, end = local_midnight_us(tz, previous), local_midnight_us(tz, current)
    return date_label(kind, previous), start, end


# --------------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class PeriodSelector:
    """What `--period L` names: local dates `first..last` (both included), or for an hourly
    label one hour given by its UTC start instant."""

    label: str
    kind: Literal["yearly", "quarterly", "monthly", "weekly", "daily", "hourly"]
    first: dt.date
    last: dt.date
    hour_start_us: int | None = None

    def bounds_us(self, tz: str) -> tuple[int, int]:
        """The instants `[lo, hi)` in which a selected period's unclipped start must lie."""
        if self.hour_start_us is not None:
            return self.hour_start_us, self.hour_start_us + HOUR_US
        return local_midnight_us(tz, self.first), local_midnight_us(
            tz, self.last + dt.timedelta(days=1)
        )


_LABEL = re.compile(
    r"(?P<y>\d{4})(?:"
    r"-Q(?P<q>\d)"
    r"|-W(?P<w>\d{2})"
    r"|-(?P<m>\d{2})(?:-(?P<d>\d{2})(?:T(?P<h>\d{2})(?P<off>Z|[+-]\d{2}:\d{2}))?)?"
    r")?"
)


def _bad_label(label: str, why: str) -> SlangError:
    return SlangError(
        [error(BAD_SELECTION, f"`{label}` is not a period label: {why}", COMMAND_LINE_SPAN,
               hint=LABEL_FORMS)]
    )


def parse_period_label(label: str) -> PeriodSelector:
    """Read a `--period` label of any granularity; raises SLG0010 on anything else."""
    text = label.strip()
    m = _LABEL.fullmatch(text)
    if m is None:
        raise _bad_label(label, "unrecognised form")
    year = int(m["y"])
    try:
        if m["q"] is not None:
            q = int(m["q"])
            if not 1 <= q <= 4:
                raise ValueError(f"quarter {q} is not 1-4")
            first = dt.date(year, 3 * q - 2, 1)
            return PeriodSelector(
                text, "quarterly", first, next_start_date("quarterly", first) - dt.timedelta(days=1)
            )
        if m["w"] is not None:
            first = dt.date.fromisocalendar(year, int(m["w"]), 1)
            return PeriodSelector(text, "weekly", first, first + dt.timedelta(days=6))
        if m["m"] is None:
            return PeriodSelector(text, "yearly", dt.date(year, 1, 1), dt.date(year, 12, 31))
        if m["d"] is None:
            first = dt.date(year, int(m["m"]), 1)
            return PeriodSelector(
                text, "monthly", first, next_start_date("monthly", first) - dt.timedelta(days=1)
            )
        day = dt.date(year, int(m["m"]), int(m["d"]))
        if m["h"] is None:
            return PeriodSelector(text, "daily", day, day)
        hour = int(m["h"])
        if hour > 23:
            raise ValueError(f"hour {hour} is not 00-23")
        off = "+00:00" if m["off"] == "Z" else m["off"]
        local = dt.datetime.combine(day, dt.time(hour))
        start = local.replace(tzinfo=dt.datetime.strptime(off, "%z").tzinfo)
        return PeriodSelector(text, "hourly", day, day, to_us(start))
    except ValueError as exc:
        raise _bad_label(label, str(exc)) from None


# ------------------------------------------------------------------------------ selection


def rolling_label(seconds: int) -> str:
    """`rolling-28d`; whole days when it is whole days, else hours, minutes, seconds."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"rolling-{seconds // size}{unit}"
    return f"rolling-{seconds}s"


def effective_bounds(agreement: model.Agreement) -> tuple[int | None, int | None]:
    """`effective` as instants: local midnight of the first day, local midnight after the
    last (dates are inclusive); None where open."""
    tz = agreement.timezone
    lo = hi = None
    if agreement.effective_start is not None:
        lo = local_midnight_us(tz, agreement.effective_start)
    if agreement.effective_end is not None:
        hi = local_midnight_us(tz, agreement.effective_end + dt.timedelta(days=1))
    return lo, hi


def _selection_error(message: str) -> SlangError:
    return SlangError(
        [error(BAD_SELECTION, message, COMMAND_LINE_SPAN,
               hint="use --period LABEL, or --from DATE --to DATE")]
    )


def select_periods(
    agreement: model.Agreement,
    *,
    as_of: dt.datetime,
    period: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[PeriodInstance]:
    """The periods of `agreement` to evaluate at `as_of`, in time order (see the module doc).

    Raises SLG0010 for a malformed label, for `period` together with a date range, for only one
    end of a date range, and for a range that ends before it starts.
    """
    selector = parse_period_label(period) if period is not None else None
    if selector is not None and (date_from is not None or date_to is not None):
        raise _selection_error("--period cannot be combined with --from/--to")
    if (date_from is None) != (date_to is None):
        raise _selection_error("--from and --to go together")
    if date_from is not None and date_to is not None and date_to < date_from:
        raise _selection_error(f"--to {date_to} is before --from {date_from}")

    tz = agreement.timezone
    kind = agreement.period.kind
    as_of_us = to_us(as_of)
    eff_lo, eff_hi = effective_bounds(agreement)

    if kind == "rolling":
        seconds = agreement.period.rolling_seconds
        if not seconds:
            raise ValueError(f"agreement {agreement.name}: rolling period without a length")
        candidates = [(rolling_label(seconds), as_of_us - seconds * US, as_of_us)]
    else:
        if selector is not None:
            lo, hi = selector.bounds_us(tz)
        elif date_from is not None and date_to is not None:
            lo = local_midnight_us(tz, date_from)
            hi = local_midnight_us(tz, date_to + dt.timedelta(days=1))
        else:
            _, lo, _ = _latest_complete(kind, tz, as_of_us)
            hi = lo + 1
        # Narrow the enumeration to periods that can survive the filters below, so that a wide
        # --from/--to does not enumerate hours for years outside `effective`.
        if eff_lo is not None:
            first = (
                eff_lo
                if kind == "hourly"
                else local_midnight_us(tz, period_start_date(kind, local_date(tz, eff_lo)))
            )
            lo = max(lo, first)
        hi = min(hi, as_of_us, *([eff_hi] if eff_hi is not None else []))
        candidates = _candidates(kind, tz, lo, hi)

    out = []
    for label, nominal_start, nominal_end in candidates:  # per period
        start = nominal_start if eff_lo is None else max(nominal_start, eff_lo)
        end = nominal_end if eff_hi is None else min(nominal_end, eff_hi)
        if end <= start or start >= as_of_us:
            continue
        out.append(
            PeriodInstance(label, start, end, nominal_start, nominal_end, complete=end <= as_of_us)
        )
    return out
