"""Local wall-clock windows as UTC instants, across daylight-saving changes.

Facts used (2026): Europe/London goes GMT→BST at 01:00Z on Sunday 29 March and BST→GMT at
01:00Z on Sunday 25 October. America/New_York goes EST→EDT at 07:00Z (02:00 EST) on Sunday
8 March and EDT→EST at 06:00Z (02:00 EDT) on Sunday 1 November. 2026-01-01 is a Thursday.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from slang.engine import intervals as iv
from slang.engine.calendar_time import (
    HOUR_US,
    MINUTE_US,
    from_us,
    hours_intervals,
    local_date,
    local_midnight_us,
    local_to_us,
    local_windows,
    offset_pieces,
    to_us,
)
from slang.semantics.model import Calendar, WeeklyWindow

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
EVERY_DAY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))


def z(text: str) -> int:
    """A UTC instant written as `2026-10-25T01:00`."""
    return to_us(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC))


def window(days: frozenset[int], start: str, end: str) -> WeeklyWindow:
    def minutes(hhmm: str) -> int:
        h, m = hhmm.split(":")
        return int(h) * 60 + int(m)

    return WeeklyWindow(days, minutes(start), minutes(end))


def day_range(tz: str, d: dt.date) -> tuple[int, int]:
    return local_midnight_us(tz, d), local_midnight_us(tz, d + dt.timedelta(days=1))


def uk_business(holidays: tuple[dt.date, ...] = ()) -> Calendar:
    return Calendar(
        "uk_business", "uk_business", LONDON, (window(WEEKDAYS, "09:00", "17:30"),), holidays
    )


# ------------------------------------------------------------------------------ helpers


def test_to_us_and_from_us_round_trip():
    t = dt.datetime(2026, 10, 25, 1, 30, 0, 123456, tzinfo=dt.UTC)
    # 2026-10-25T00:00Z is 1 792 886 400 s after the epoch; plus 1 h 30 min and 123 456 µs.
    assert to_us(t) == (1_792_886_400 + 5400) * 1_000_000 + 123_456
    assert from_us(to_us(t)) == t
    assert to_us(dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=dt.UTC)) == -1_000_000
    with pytest.raises(ValueError):
        to_us(dt.datetime(2026, 1, 1))  # naive: refused, not guessed


def test_local_midnights_around_london_changes():
    # Midnight before the spring change is GMT (= UTC); after it, BST (UTC+1).
    assert local_midnight_us(LONDON, dt.date(2026, 3, 29)) == z("2026-03-29T00:00")
    assert local_midnight_us(LONDON, dt.date(2026, 3, 30)) == z("2026-03-29T23:00")
    assert local_midnight_us(LONDON, dt.date(2026, 10, 25)) == z("2026-10-24T23:00")
    assert local_midnight_us(LONDON, dt.date(2026, 10, 26)) == z("2026-10-26T00:00")
    assert local_date(LONDON, z("2026-10-24T23:00")) == dt.date(2026, 10, 25)
    assert local_date(LONDON, z("2026-10-24T22:59")) == dt.date(2026, 10, 24)


def test_local_to_us_repeated_and_skipped_times():
    # Local wall times are written like UTC ones (µs since the local epoch).
    local = z
    # 01:30 on 25 Oct happens twice (BST then GMT): the first, 00:30Z.
    # 01:30 on 29 Mar never happens: clocks jump from 01:00 GMT to 02:00 BST at 01:00Z.
    got = local_to_us(LONDON, np.array([local("2026-10-25T01:30"), local("2026-03-29T01:30")]))
    assert got.tolist() == [z("2026-10-25T00:30"), z("2026-03-29T01:00")]


def test_offset_pieces_over_2026():
    bounds, offsets = offset_pieces(LONDON, z("2026-01-01T00:00"), z("2027-01-01T00:00"))
    assert bounds.tolist() == [
        z("2026-01-01T00:00"),
        z("2026-03-29T01:00"),
        z("2026-10-25T01:00"),
        z("2027-01-01T00:00"),
    ]
    assert offsets.tolist() == [0, HOUR_US, 0]


# ------------------------------------------------------------------- London DST days


def test_london_spring_forward_day():
    lo, hi = day_range(LONDON, dt.date(2026, 3, 29))
    assert hi - lo == 23 * HOUR_US  # 24 h less the skipped 01:00-02:00
    all_day = Calendar("c", "c", LONDON, (window(EVERY_DAY, "00:00", "24:00"),), ())
    assert iv.total(hours_intervals(all_day, lo, hi)) == 23 * HOUR_US
    # 01:00-02:00 local does not exist that night: the window covers nothing.
    assert local_windows(LONDON, lo, hi, [window(EVERY_DAY, "01:00", "02:00")]).is_empty
    # 00:00-04:00 covers 00:00-01:00 GMT (00:00Z-01:00Z) and 02:00-04:00 BST (01:00Z-03:00Z):
    # one piece of 3 h, not 4.
    got = local_windows(LONDON, lo, hi, [window(EVERY_DAY, "00:00", "04:00")])
    assert got.pairs() == [(z("2026-03-29T00:00"), z("2026-03-29T03:00"))]


def test_london_fall_back_day():
    lo, hi = day_range(LONDON, dt.date(2026, 10, 25))
    assert hi - lo == 25 * HOUR_US
    # 01:00-02:00 happens twice: 01:00 BST = 00:00Z to 02:00 GMT = 02:00Z, two real hours.
    got = local_windows(LONDON, lo, hi, [window(EVERY_DAY, "01:00", "02:00")])
    assert got.pairs() == [(z("2026-10-25T00:00"), z("2026-10-25T02:00"))]
    # The Sunday patch window 02:00-04:00 is after the change: 02:00Z-04:00Z, 2 h.
    sunday = frozenset({6})
    got = local_windows(LONDON, lo, hi, [window(sunday, "02:00", "04:00")])
    assert got.pairs() == [(z("2026-10-25T02:00"), z("2026-10-25T04:00"))]
    # 00:00-04:00 straddles the change: 00:00 BST (23:00Z the day before) to 04:00 GMT, 5 h.
    got = local_windows(LONDON, lo, hi, [window(sunday, "00:00", "04:00")])
    assert got.pairs() == [(z("2026-10-24T23:00"), z("2026-10-25T04:00"))]


# ------------------------------------------------------------------- business calendars


def test_uk_business_october_2026():
    # October 2026: Thu 1st .. Sat 31st. Weekdays: 1-2 (2), 5-9, 12-16, 19-23, 26-30 (4 × 5)
    # = 22, no bank holidays. 09:00-17:30 is 8.5 h whatever the offset: 22 × 8.5 h = 187 h.
    lo, hi = z("2026-09-30T23:00"), z("2026-11-01T00:00")
    got = hours_intervals(uk_business(), lo, hi)
    assert len(got) == 22
    assert iv.total(got) == 187 * HOUR_US
    # Friday 23rd is BST: 08:00Z-16:30Z; Monday 26th is GMT: 09:00Z-17:30Z.
    assert (z("2026-10-23T08:00"), z("2026-10-23T16:30")) in got.pairs()
    assert (z("2026-10-26T09:00"), z("2026-10-26T17:30")) in got.pairs()


def test_uk_business_december_2026_with_holidays():
    # 1 Dec 2026 is a Tuesday (1 Oct Thu + 61 days = +5 weekdays). Weekdays: 1-4 (4), 7-11,
    # 14-18, 21-25 (3 × 5), 28-31 (4) = 23. Holidays Fri 25th and Mon 28th are weekdays: 21
    # days × 8.5 h = 178.5 h. All GMT.
    holidays = (dt.date(2026, 12, 25), dt.date(2026, 12, 28))
    lo, hi = z("2026-12-01T00:00"), z("2027-01-01T00:00")
    got = hours_intervals(uk_business(holidays), lo, hi)
    assert len(got) == 21
    assert iv.total(got) == 178 * HOUR_US + 30 * MINUTE_US
    assert not iv.contains(got, np.array([z("2026-12-25T12:00"), z("2026-12-28T12:00")])).any()
    assert iv.contains(got, np.array([z("2026-12-24T12:00"), z("2026-12-29T12:00")])).all()


def test_calendar_without_hours_is_all_time_minus_holidays():
    # Oct 24-26 local, holiday the 25-hour 25th: left are 24 h + 24 h, with the gap exactly
    # the 25th's local day (23:00Z on the 24th to 00:00Z on the 26th).
    cal = Calendar("c", "c", LONDON, (), (dt.date(2026, 10, 25),))
    lo = local_midnight_us(LONDON, dt.date(2026, 10, 24))
    hi = local_midnight_us(LONDON, dt.date(2026, 10, 27))
    got = hours_intervals(cal, lo, hi)
    assert got.pairs() == [
        (z("2026-10-23T23:00"), z("2026-10-24T23:00")),
        (z("2026-10-26T00:00"), z("2026-10-27T00:00")),
    ]
    assert iv.total(got) == 48 * HOUR_US


def test_range_cuts_windows():
    # Monday 5 Oct 2026 (BST): the range 10:00-12:00 local is 09:00Z-11:00Z, inside the
    # 09:00-17:30 window, so 2 h count; the range end is exclusive.
    got = hours_intervals(uk_business(), z("2026-10-05T09:00"), z("2026-10-05T11:00"))
    assert got.pairs() == [(z("2026-10-05T09:00"), z("2026-10-05T11:00"))]
    assert hours_intervals(uk_business(), z("2026-10-05T11:00"), z("2026-10-05T11:00")).is_empty


def test_several_windows_merge_when_touching():
    # mon 09:00-12:00 and mon 12:00-13:00 touch: one piece. 5 Oct 2026 is a Monday, BST.
    ws = [window(frozenset({0}), "09:00", "12:00"), window(frozenset({0}), "12:00", "13:00")]
    lo, hi = day_range(LONDON, dt.date(2026, 10, 5))
    got = local_windows(LONDON, lo, hi, ws)
    assert got.pairs() == [(z("2026-10-05T08:00"), z("2026-10-05T12:00"))]


def test_backwards_window_is_refused():
    with pytest.raises(ValueError):
        local_windows(LONDON, 0, HOUR_US, [WeeklyWindow(EVERY_DAY, 600, 540)])


# ----------------------------------------------------------------------- New York DST


def test_new_york_spring_forward():
    lo, hi = day_range(NEW_YORK, dt.date(2026, 3, 8))
    # Midnight EST = 05:00Z; next midnight EDT = 04:00Z on the 9th: 23 h.
    assert (lo, hi) == (z("2026-03-08T05:00"), z("2026-03-09T04:00"))
    assert local_windows(NEW_YORK, lo, hi, [window(EVERY_DAY, "02:00", "03:00")]).is_empty
    # 01:00-04:00: 01:00-02:00 EST (06:00Z-07:00Z) then 03:00-04:00 EDT (07:00Z-08:00Z): 2 h.
    got = local_windows(NEW_YORK, lo, hi, [window(EVERY_DAY, "01:00", "04:00")])
    assert got.pairs() == [(z("2026-03-08T06:00"), z("2026-03-08T08:00"))]


def test_new_york_fall_back():
    lo, hi = day_range(NEW_YORK, dt.date(2026, 11, 1))
    # Midnight EDT = 04:00Z; next midnight EST = 05:00Z on the 2nd: 25 h.
    assert (lo, hi) == (z("2026-11-01T04:00"), z("2026-11-02T05:00"))
    # 01:00-02:00 twice: 01:00 EDT = 05:00Z to 02:00 EST = 07:00Z.
    got = local_windows(NEW_YORK, lo, hi, [window(EVERY_DAY, "01:00", "02:00")])
    assert got.pairs() == [(z("2026-11-01T05:00"), z("2026-11-01T07:00"))]


def test_new_york_business_hours_across_the_spring_change():
    # mon-fri 09:00-17:00 for Mon 2 Mar .. Fri 13 Mar 2026: 10 weekdays × 8 h = 80 h.
    # Before the change (EST, UTC-5) Friday 6th is 14:00Z-22:00Z; after it (EDT, UTC-4)
    # Monday 9th is 13:00Z-21:00Z.
    cal = Calendar("ny", "ny", NEW_YORK, (window(WEEKDAYS, "09:00", "17:00"),), ())
    lo = local_midnight_us(NEW_YORK, dt.date(2026, 3, 2))
    hi = local_midnight_us(NEW_YORK, dt.date(2026, 3, 14))
    got = hours_intervals(cal, lo, hi)
    assert iv.total(got) == 80 * HOUR_US
    assert (z("2026-03-06T14:00"), z("2026-03-06T22:00")) in got.pairs()
    assert (z("2026-03-09T13:00"), z("2026-03-09T21:00")) in got.pairs()
