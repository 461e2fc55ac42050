"""Which periods an agreement is evaluated over: bounds, labels, clipping and selection.

Facts used (2026): Europe/London is GMT (UTC+0) until 01:00Z on Sunday 29 March, BST (UTC+1)
until 01:00Z on Sunday 25 October, then GMT. 2026-01-01 is a Thursday; 2026 has 53 ISO weeks
(it starts on a Thursday), so 2027-01-01 (a Friday) is in 2026-W53.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from slang.diagnostics import SlangError
from slang.engine.calendar_time import HOUR_US, to_us
from slang.engine.periods import (
    PeriodInstance,
    date_label,
    hour_label,
    parse_period_label,
    period_start_date,
    rolling_label,
    select_periods,
)
from slang.semantics import model

LONDON = "Europe/London"
H = HOUR_US


def z(text: str) -> int:
    return to_us(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def agreement(
    kind: str = "monthly",
    tz: str = LONDON,
    start: dt.date | None = None,
    end: dt.date | None = None,
    rolling_seconds: int | None = None,
) -> model.Agreement:
    service = model.Service("checkout", "checkout", None, None, None, (), "checkout", None, False)
    return model.Agreement(
        name="a",
        file="a.sla",
        service=service,
        customer=None,
        provider=None,
        status="agreed",
        effective_start=start,
        effective_end=end,
        timezone=tz,
        period=model.Period(kind, rolling_seconds),  # type: ignore[arg-type]
        fee=None,
        credit_cap=None,
        review=None,
        notify=(),
        notify_on=(),
        hours=None,
        exclusions=(),
        objectives=(),
        description=None,
    )


def bounds(p: PeriodInstance) -> tuple[int, int]:
    return p.start_us, p.end_us


# ------------------------------------------------------------------------ bounds and labels


def test_london_october_2026_is_745_hours():
    # 1 Oct 00:00 BST = 30 Sep 23:00Z; 1 Nov 00:00 GMT = 1 Nov 00:00Z. 31 days × 24 h + the
    # repeated hour of 25 Oct = 745 h.
    [p] = select_periods(agreement(), as_of=at("2026-11-01T00:00"), period="2026-10")
    assert p.label == "2026-10"
    assert bounds(p) == (z("2026-09-30T23:00"), z("2026-11-01T00:00"))
    assert p.end_us - p.start_us == 745 * H
    assert p.complete  # its end equals as_of
    assert p.fee_fraction == 1 and not p.clipped
    assert p.start == at("2026-09-30T23:00") and p.end == at("2026-11-01T00:00")


def test_london_march_2026_is_743_hours():
    # 1 Mar 00:00 GMT = 00:00Z; 1 Apr 00:00 BST = 31 Mar 23:00Z: 31 × 24 − 1 = 743 h.
    [p] = select_periods(agreement(), as_of=at("2026-06-01T00:00"), period="2026-03")
    assert bounds(p) == (z("2026-03-01T00:00"), z("2026-03-31T23:00"))
    assert p.end_us - p.start_us == 743 * H


def test_utc_february_is_672_hours():
    # 28 days × 24 h = 672 h, no daylight saving in UTC.
    [p] = select_periods(agreement(tz="UTC"), as_of=at("2026-06-01T00:00"), period="2026-02")
    assert bounds(p) == (z("2026-02-01T00:00"), z("2026-03-01T00:00"))
    assert p.end_us - p.start_us == 672 * H


def test_daily_periods_on_change_days():
    a = agreement("daily")
    [spring] = select_periods(a, as_of=at("2026-12-01T00:00"), period="2026-03-29")
    assert spring.label == "2026-03-29"
    assert bounds(spring) == (z("2026-03-29T00:00"), z("2026-03-29T23:00"))  # 23 h
    [autumn] = select_periods(a, as_of=at("2026-12-01T00:00"), period="2026-10-25")
    assert bounds(autumn) == (z("2026-10-24T23:00"), z("2026-10-26T00:00"))  # 25 h
    # --from/--to 24th..26th: three days of 24, 25 and 24 hours.
    got = select_periods(
        a,
        as_of=at("2026-12-01T00:00"),
        date_from=dt.date(2026, 10, 24),
        date_to=dt.date(2026, 10, 26),
    )
    assert [p.label for p in got] == ["2026-10-24", "2026-10-25", "2026-10-26"]
    assert [(p.end_us - p.start_us) // H for p in got] == [24, 25, 24]


def test_hourly_labels_around_the_fall_back_hour():
    # 25 Oct 2026 local has 25 hours; the 01 hour happens twice, first at +01:00 (BST,
    # 00:00Z-01:00Z) then at +00:00 (GMT, 01:00Z-02:00Z).
    got = select_periods(agreement("hourly"), as_of=at("2026-12-01T00:00"), period="2026-10-25")
    assert len(got) == 25
    assert [p.label for p in got[:4]] == [
        "2026-10-25T00+01:00",
        "2026-10-25T01+01:00",
        "2026-10-25T01+00:00",
        "2026-10-25T02+00:00",
    ]
    assert [bounds(p) for p in got[1:3]] == [
        (z("2026-10-25T00:00"), z("2026-10-25T01:00")),
        (z("2026-10-25T01:00"), z("2026-10-25T02:00")),
    ]
    assert got[0].start_us == z("2026-10-24T23:00")
    assert got[-1].label == "2026-10-25T23+00:00"
    assert got[-1].end_us == z("2026-10-26T00:00")
    assert len({p.label for p in got}) == 25  # all distinct


def test_hourly_spring_forward_skips_the_missing_hour():
    # 29 Mar 2026 local has 23 hours: 00 (GMT, 00:00Z-01:00Z), then 02 BST from 01:00Z.
    got = select_periods(agreement("hourly"), as_of=at("2026-12-01T00:00"), period="2026-03-29")
    assert len(got) == 23
    assert [p.label for p in got[:2]] == ["2026-03-29T00+00:00", "2026-03-29T02+01:00"]
    assert bounds(got[1]) == (z("2026-03-29T01:00"), z("2026-03-29T02:00"))


def test_an_hourly_label_selects_that_hour():
    a = agreement("hourly")
    [p] = select_periods(a, as_of=at("2026-12-01T00:00"), period="2026-10-25T01+00:00")
    assert p.label == "2026-10-25T01+00:00"
    assert bounds(p) == (z("2026-10-25T01:00"), z("2026-10-25T02:00"))


def test_iso_weeks():
    # 2027-01-01 (Friday) belongs to the ISO week starting Monday 2026-12-28: 2026-W53.
    assert period_start_date("weekly", dt.date(2027, 1, 1)) == dt.date(2026, 12, 28)
    assert date_label("weekly", dt.date(2026, 12, 28)) == "2026-W53"
    # Week 41 of 2026: 1 Jan is a Thursday, so W01 starts Mon 29 Dec 2025; Mon 5 Oct 2026 is
    # 3 + 277 = 280 days later, 40 weeks: W41. It starts at 00:00 BST = 4 Oct 23:00Z.
    [p] = select_periods(agreement("weekly"), as_of=at("2026-12-01T00:00"), period="2026-W41")
    assert p.label == "2026-W41"
    assert bounds(p) == (z("2026-10-04T23:00"), z("2026-10-11T23:00"))
    # Week 43 (Mon 19 .. Sun 25 Oct) holds the repeated hour: 7 × 24 + 1 = 169 h.
    [w43] = select_periods(agreement("weekly"), as_of=at("2026-12-01T00:00"), period="2026-W43")
    assert bounds(w43) == (z("2026-10-18T23:00"), z("2026-10-26T00:00"))
    assert w43.end_us - w43.start_us == 169 * H


def test_default_weekly_is_the_last_complete_week():
    # as_of Tue 5 Jan 2027: the running week started Mon 4 Jan; the last complete one is
    # Mon 28 Dec 2026 .. Mon 4 Jan 2027 (GMT, so UTC midnights): 2026-W53.
    [p] = select_periods(agreement("weekly"), as_of=at("2027-01-05T12:00"))
    assert p.label == "2026-W53"
    assert bounds(p) == (z("2026-12-28T00:00"), z("2027-01-04T00:00"))
    assert p.complete


def test_quarterly_and_yearly():
    # Q4: 1 Oct 00:00 BST (30 Sep 23:00Z) to 1 Jan 2027 00:00Z: 745 + 720 + 744 = 2209 h.
    [q] = select_periods(agreement("quarterly"), as_of=at("2027-02-01T00:00"), period="2026-Q4")
    assert q.label == "2026-Q4"
    assert bounds(q) == (z("2026-09-30T23:00"), z("2027-01-01T00:00"))
    assert q.end_us - q.start_us == 2209 * H
    # The year: both midnights are GMT, the two changes cancel: 365 × 24 = 8760 h.
    [y] = select_periods(agreement("yearly"), as_of=at("2027-02-01T00:00"), period="2026")
    assert y.label == "2026"
    assert bounds(y) == (z("2026-01-01T00:00"), z("2027-01-01T00:00"))
    assert y.end_us - y.start_us == 8760 * H


# ------------------------------------------------------------------------ effective clipping


def test_effective_from_the_16th_measures_the_rest_of_october():
    # Start: 16 Oct 00:00 BST = 15 Oct 23:00Z. End: 1 Nov 00:00Z. That is 16 local days, one
    # of them (25 Oct) 25 h long: 16 × 24 + 1 = 385 h, of the month's 745 h.
    # fee_fraction = 385/745 = (5·7·11)/(5·149) = 77/149.
    a = agreement(start=dt.date(2026, 10, 16))
    [p] = select_periods(a, as_of=at("2026-11-01T00:00"), period="2026-10")
    assert bounds(p) == (z("2026-10-15T23:00"), z("2026-11-01T00:00"))
    assert (p.nominal_start_us, p.nominal_end_us) == (z("2026-09-30T23:00"), z("2026-11-01T00:00"))
    assert p.end_us - p.start_us == 385 * H
    assert p.fee_fraction == Fraction(385, 745) == Fraction(77, 149)
    assert p.clipped and p.complete


def test_periods_outside_effective_are_not_emitted():
    # Effective 16 Oct .. 20 Nov 2026; --period 2026 on a monthly agreement: January to
    # September and December lie wholly outside. November ends at 21 Nov 00:00 GMT.
    a = agreement(start=dt.date(2026, 10, 16), end=dt.date(2026, 11, 20))
    got = select_periods(a, as_of=at("2027-02-01T00:00"), period="2026")
    assert [p.label for p in got] == ["2026-10", "2026-11"]
    nov = got[1]
    assert bounds(nov) == (z("2026-11-01T00:00"), z("2026-11-21T00:00"))
    assert nov.fee_fraction == Fraction(20, 30)  # 20 of November's 30 days, all 24 h
    # An agreement ending before the selection yields nothing.
    old = agreement(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    assert select_periods(old, as_of=at("2027-02-01T00:00"), period="2026") == []


# ---------------------------------------------------------------------------- selection


def test_from_to_selects_by_unclipped_start():
    # Periods whose start lies in [16 Oct 00:00, 1 Dec 00:00) local: October starts on the
    # 1st, outside; November starts inside. December starts at the range's (exclusive) end.
    got = select_periods(
        agreement(),
        as_of=at("2027-01-01T00:00"),
        date_from=dt.date(2026, 10, 16),
        date_to=dt.date(2026, 11, 30),
    )
    assert [p.label for p in got] == ["2026-11"]


def test_quarter_label_on_a_monthly_agreement():
    got = select_periods(agreement(), as_of=at("2027-01-01T00:00"), period="2026-Q4")
    assert [p.label for p in got] == ["2026-10", "2026-11", "2026-12"]
    assert all(p.complete for p in got)
    # Contiguous: each month ends where the next starts; December ends 1 Jan 00:00Z.
    assert got[0].end_us == got[1].start_us and got[1].end_us == got[2].start_us
    assert got[2].end_us == z("2027-01-01T00:00")


def test_default_is_the_last_complete_period():
    a = agreement()
    [p] = select_periods(a, as_of=at("2026-11-15T12:00"))
    assert p.label == "2026-10" and p.complete
    # Exactly at October's end, October is complete and is the latest.
    [p] = select_periods(a, as_of=at("2026-11-01T00:00"))
    assert p.label == "2026-10"
    # One second earlier October is still running: the last complete one is September.
    [p] = select_periods(a, as_of=at("2026-10-31T23:59:59"))
    assert p.label == "2026-09"
    assert bounds(p) == (z("2026-08-31T23:00"), z("2026-09-30T23:00"))


def test_default_hourly_at_the_repeated_hour():
    # as_of 01:30Z on 25 Oct is inside the second 01 hour (GMT); the last complete hour is
    # the first 01 hour, 00:00Z-01:00Z, at +01:00.
    [p] = select_periods(agreement("hourly"), as_of=at("2026-10-25T01:30"))
    assert p.label == "2026-10-25T01+01:00"
    assert bounds(p) == (z("2026-10-25T00:00"), z("2026-10-25T01:00"))


def test_default_outside_effective_is_empty():
    # Effective from 16 Oct; at 20 Oct the last complete month is September: not emitted.
    a = agreement(start=dt.date(2026, 10, 16))
    assert select_periods(a, as_of=at("2026-10-20T00:00")) == []


def test_running_period_and_future_periods():
    # as_of 15 Nov 12:00Z: October complete, November running (kept, complete=False, with
    # its full nominal end), December not started (not emitted).
    got = select_periods(agreement(), as_of=at("2026-11-15T12:00"), period="2026-Q4")
    assert [(p.label, p.complete) for p in got] == [("2026-10", True), ("2026-11", False)]
    assert got[1].end_us == z("2026-12-01T00:00")
    # A period starting exactly at as_of has not started.
    got = select_periods(agreement(), as_of=at("2026-11-01T00:00"), period="2026-Q4")
    assert [p.label for p in got] == ["2026-10"]


def test_rolling_window():
    # rolling 28d at 1 Nov 00:00Z: [4 Oct 00:00Z, 1 Nov 00:00Z), 28 × 24 = 672 h, whatever
    # --period says.
    a = agreement("rolling", rolling_seconds=28 * 86400)
    for kwargs in (
        {},
        {"period": "2026-Q1"},
        {"date_from": dt.date(2020, 1, 1), "date_to": dt.date(2020, 1, 2)},
    ):
        [p] = select_periods(a, as_of=at("2026-11-01T00:00"), **kwargs)
        assert p.label == "rolling-28d"
        assert bounds(p) == (z("2026-10-04T00:00"), z("2026-11-01T00:00"))
        assert p.complete and p.fee_fraction == 1


def test_rolling_window_clipped_to_effective():
    # Effective from 16 Oct (15 Oct 23:00Z): 385 h of the 672 h window remain (see the
    # October test); 385/672 = (5·7·11)/(2⁵·3·7) = 55/96.
    a = agreement("rolling", start=dt.date(2026, 10, 16), rolling_seconds=28 * 86400)
    [p] = select_periods(a, as_of=at("2026-11-01T00:00"))
    assert bounds(p) == (z("2026-10-15T23:00"), z("2026-11-01T00:00"))
    assert p.fee_fraction == Fraction(55, 96)
    # Before the agreement starts there is nothing to measure.
    assert select_periods(a, as_of=at("2026-10-01T00:00")) == []


def test_rolling_labels():
    assert rolling_label(28 * 86400) == "rolling-28d"
    assert rolling_label(36 * 3600) == "rolling-36h"
    assert rolling_label(90 * 60) == "rolling-90m"


# --------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "label",
    [
        "2026-10-5",
        "Q4-2026",
        "2026-Q5",
        "2026-W54",
        "2027-W53",
        "2026-13",
        "2026-02-30",
        "26",
        "2026-10-05T24+00:00",
        "2026-10-05T14",
        "monthly",
        "",
    ],
)
def test_malformed_label_is_slg0010(label):
    with pytest.raises(SlangError) as info:
        select_periods(agreement(), as_of=at("2027-01-01T00:00"), period=label)
    [d] = info.value.diagnostics
    assert (d.code, d.span.file) == ("SLG0010", "<command line>")
    assert d.hint is not None and "2026-Q4" in d.hint and "2026-W41" in d.hint


def test_inconsistent_selection_is_slg0010():
    a, as_of = agreement(), at("2027-01-01T00:00")
    cases = [
        {"period": "2026-10", "date_from": dt.date(2026, 10, 1), "date_to": dt.date(2026, 10, 2)},
        {"date_from": dt.date(2026, 10, 1)},
        {"date_from": dt.date(2026, 10, 2), "date_to": dt.date(2026, 10, 1)},
    ]
    for kwargs in cases:
        with pytest.raises(SlangError) as info:
            select_periods(a, as_of=as_of, **kwargs)  # type: ignore[arg-type]
        [d] = info.value.diagnostics
        assert (d.code, d.span.file) == ("SLG0010", "<command line>")


def test_parse_period_label_ranges():
    # Each label names inclusive local dates.
    got = {
        label: (s.kind, s.first, s.last)
        for label in ("2026", "2026-Q4", "2026-10", "2026-W53", "2026-10-05")
        for s in [parse_period_label(label)]
    }
    assert got == {
        "2026": ("yearly", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        "2026-Q4": ("quarterly", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        "2026-10": ("monthly", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        "2026-W53": ("weekly", dt.date(2026, 12, 28), dt.date(2027, 1, 3)),
        "2026-10-05": ("daily", dt.date(2026, 10, 5), dt.date(2026, 10, 5)),
    }


def test_hour_labels_with_negative_and_half_hour_offsets():
    # New York falls back at 06:00Z on 1 Nov 2026: 01:00 EDT (UTC−4) is 05:00Z, 01:00 EST
    # (UTC−5) is 06:00Z.
    assert hour_label("America/New_York", z("2026-11-01T05:00")) == "2026-11-01T01-04:00"
    assert hour_label("America/New_York", z("2026-11-01T06:00")) == "2026-11-01T01-05:00"
    # Kolkata is UTC+05:30 all year: its local hours start at half past in UTC, so 14:00
    # local on 5 Oct is 08:30Z.
    [p] = select_periods(
        agreement("hourly", tz="Asia/Kolkata"),
        as_of=at("2026-12-01T00:00"),
        period="2026-10-05T14+05:30",
    )
    assert p.label == "2026-10-05T14+05:30"
    assert bounds(p) == (z("2026-10-05T08:30"), z("2026-10-05T09:30"))
