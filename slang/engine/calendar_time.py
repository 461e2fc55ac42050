"""Local wall-clock time to UTC instants, exact across daylight-saving changes.

Policies speak local time: `hours mon-fri 09:00-17:30` in a calendar's zone, `exclude weekly sun
02:00-04:00` in the agreement's, periods that start at local midnight. The engine speaks UTC
microseconds (see `intervals`). This module is the one place that crosses between the two, so
that every layer agrees on what a window on a 23- or 25-hour day covers.

The rule (language spec §4.2): a window covers exactly the instants whose local time lies in it.
On the autumn fall-back day in London a 01:00-02:00 window covers two real hours; on the spring
day it covers none. That falls out of one method instead of special cases: split the UTC range
into pieces of constant UTC offset; inside a piece, local time is UTC plus a constant, so a local
window maps to UTC by subtracting the offset and is then clipped to the piece.

Offsets come from `zoneinfo`, which does not publish its transition list; transitions are found
by sampling the offset every few hours and bisecting to the second where it changes (tzdata
transitions fall on whole seconds). Sampling assumes two transitions are never closer than the
sampling step, true of every zone since the 1940s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from slang.engine.intervals import I64, Array, Intervals, normalize
from slang.semantics import model

US = 1_000_000
MINUTE_US = 60 * US
HOUR_US = 3600 * US
DAY_US = 86400 * US
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_ONE_US = dt.timedelta(microseconds=1)
_SAMPLE_S = 6 * 3600  # offset sampling step when looking for transitions
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (ISO weekday index, Monday = 0)

ALL_DAY = model.WeeklyWindow(frozenset(range(7)), 0, 1440)


# ------------------------------------------------------------------------------ conversions


def to_us(t: dt.datetime) -> int:
    """An aware datetime as µs since the epoch. Naive datetimes are refused rather than guessed
    (the same rule as for data, §4.10)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t.isoformat()} has no time zone")
    return (t - EPOCH) // _ONE_US


def from_us(us: int) -> dt.datetime:
    """µs since the epoch as an aware UTC datetime."""
    return EPOCH + dt.timedelta(microseconds=int(us))


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01: the date part of a local-time µs count."""
    return d.toordinal() - _EPOCH_ORDINAL


def zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


# ------------------------------------------------------------------------- offset pieces


def _offset_at_s(z: ZoneInfo, s: int) -> int:
    """UTC offset (µs) in force at the instant `s` seconds after the epoch."""
    off = (EPOCH + dt.timedelta(seconds=s)).astimezone(z).utcoffset()
    assert off is not None
    return off // _ONE_US


@lru_cache(maxsize=512)
def _year_transitions(tz: str, year: int) -> tuple[int, ...]:
    """Seconds T in (Jan 1 00:00Z of `year`, Jan 1 00:00Z of the next year] at which the offset
    changes (offset(T) differs from offset(T − 1)). Cached per year: a zone's rules are asked
    about the same few years over and over, once per period and objective."""
    z = zone(tz)
    lo = int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp())
    hi = int(dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC).timestamp())
    samples = [*range(lo, hi, _SAMPLE_S), hi]
    offsets = [_offset_at_s(z, s) for s in samples]
    found = []
    for i in range(len(samples) - 1):  # per sample step (a few per day), not per row
        if offsets[i] == offsets[i + 1]:
            continue
        a, b = samples[i], samples[i + 1]  # offset(a) differs from offset(b)
        while b - a > 1:
            mid = (a + b) // 2
            if _offset_at_s(z, mid) == offsets[i]:
                a = mid
            else:
                b = mid
        found.append(b)
    return tuple(found)


def offset_pieces(tz: str, start_us: int, end_us: int) -> tuple[Array, Array]:
    """Split `[start, end)` where the UTC offset of `tz` changes.

    Returns `bounds` (n + 1 instants, from start to end) and `offsets` (n, µs, local minus UTC):
    piece i is `[bounds[i], bounds[i+1])`, in which local time is UTC + offsets[i].
    """
    if end_us <= start_us:
        return np.array([start_us], I64), np.empty(0, I64)
    z = zone(tz)
    first_year = from_us(start_us).year
    last_year = from_us(end_us).year
    cuts = [
        t * US
        for year in range(first_year - 1, last_year + 1)  # per year
        for t in _year_transitions(tz, year)
        if start_us < t * US < end_us
    ]
    bounds = np.array([start_us, *cuts, end_us], I64)
    offsets = np.array([_offset_at_s(z, int(b // US)) for b in bounds[:-1]], I64)
    return bounds, offsets


def local_to_us(tz: str, local_us: npt.ArrayLike) -> Array:
    """The earliest instant whose local time is at or after each local wall time (local µs
    since the local epoch).

    For a time that happens once this is that instant; for a repeated (fall-back) time, its
    first occurrence; for a skipped (spring-forward) time, the transition instant, when local
    clocks jump past it. So local midnight of a day whose midnight is skipped is the first
    instant of that day, which is what a period starting "at local midnight" needs.
    """
    lt = np.asarray(local_us, dtype=I64)
    if lt.size == 0:
        return lt.copy()
    bounds, offsets = offset_pieces(tz, int(lt.min()) - 2 * DAY_US, int(lt.max()) + 2 * DAY_US)
    best = np.full(lt.shape, np.iinfo(np.int64).max, dtype=I64)
    for i in range(offsets.shape[0]):  # per offset piece: a few per year
        u = np.maximum(lt - offsets[i], bounds[i])
        best = np.where(u < bounds[i + 1], np.minimum(best, u), best)
    return best


def local_midnight_us(tz: str, d: dt.date) -> int:
    """The first instant of local date `d` in `tz`."""
    return int(local_to_us(tz, np.array([day_number(d) * DAY_US], I64))[0])


def local_datetime(tz: str, us: int) -> dt.datetime:
    """The instant as an aware datetime in `tz` (its `utcoffset` tells which side of a fold)."""
    return from_us(us).astimezone(zone(tz))


def local_date(tz: str, us: int) -> dt.date:
    return local_datetime(tz, us).date()


# ------------------------------------------------------------------------ weekly windows


def local_windows(
    tz: str,
    start_us: int,
    end_us: int,
    windows: Sequence[model.WeeklyWindow],
    skip_dates: Collection[dt.date] = (),
) -> Intervals:
    """The instants in `[start, end)` whose local time in `tz` lies in one of the weekly windows
    (on one of its weekdays), leaving out every instant whose local date is in `skip_dates`.

    Per constant-offset piece the local days it touches are one numpy range; each window picks
    its weekdays from it, maps to UTC by the piece's offset, and is clipped to the piece. A day
    split by a transition is handled by its two pieces, each contributing its own side.
    `end_minute` 1440 (`24:00`) is the next local midnight.
    """
    for w in windows:
        if not 0 <= w.start_minute < w.end_minute <= 1440:
            raise ValueError(f"window {w.start_minute}-{w.end_minute} min is not start < end")
    if end_us <= start_us or not windows:
        return Intervals.empty()
    bounds, offsets = offset_pieces(tz, start_us, end_us)
    skip = np.array(sorted(day_number(d) for d in skip_dates), I64)
    starts: list[Array] = []
    ends: list[Array] = []
    for i in range(offsets.shape[0]):  # per offset piece
        p0, p1, off = int(bounds[i]), int(bounds[i + 1]), int(offsets[i])
        days = np.arange((p0 + off) // DAY_US, (p1 - 1 + off) // DAY_US + 1, dtype=I64)
        days = days[~np.isin(days, skip)]
        weekday = (days + _EPOCH_WEEKDAY) % 7
        for w in windows:  # per window of the calendar
            on = days[np.isin(weekday, np.array(sorted(w.days), I64))]
            s = np.maximum(on * DAY_US + w.start_minute * MINUTE_US - off, p0)
            e = np.minimum(on * DAY_US + w.end_minute * MINUTE_US - off, p1)
            starts.append(s)
            ends.append(e)
    return normalize(np.concatenate(starts), np.concatenate(ends))


def hours_intervals(calendar: model.Calendar, start_us: int, end_us: int) -> Intervals:
    """A calendar's counted time in `[start, end)`: its hours (every hour when it declares none)
    minus its holidays, all read in the calendar's own time zone. The holidays of its region
    codes are those of the local years `[start, end)` touches, noted in the audit's ledger."""
    windows = calendar.hours or (ALL_DAY,)
    holidays: Collection[dt.date] = calendar.holidays
    if calendar.regions and end_us > start_us:
        from slang.semantics.holiday_regions import calendar_holidays

        holidays = calendar_holidays(
            calendar.id, calendar.holidays, calendar.regions,
            local_date(calendar.timezone, start_us).year,
            local_date(calendar.timezone, end_us - 1).year,
        )
    return local_windows(calendar.timezone, start_us, end_us, windows, holidays)
