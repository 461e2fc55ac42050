"""Public holidays from a maintained source: the `holidays` package (Open World Holidays).

`holidays "GB-ENG"` in a calendar names a country (ISO 3166-1 alpha-2) and optionally a
subdivision (ISO 3166-2 code as the package knows it). Its dates are computed here, per year,
from the installed package; the package's version goes with them into the plan and the audit
evidence, so a later upgrade that corrects a date cannot silently change a past audit.

Which days count: the day a holiday is *taken*. Where the package moves a holiday that falls on
a weekend to a substitute ("observed") day, the substitute counts and the original date does
not: GB-ENG 2026 has Boxing Day on Monday 28 December, not Saturday 26 December (GOV.UK lists
only the 28th), US 2026 has Independence Day on Friday 3 July (as OPM does). This is what the
hand-typed standard calendars always held.

The package is imported only when a calendar names a region (it takes a quarter of a second to
import), and every year is computed once per process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from typing import Any

from slang.semantics.values import did_you_mean

PACKAGE = "holidays"

# How far apart a holiday and its substitute day can lie (a weekend plus a clash with another
# holiday moves it at most a few days).
_SUBSTITUTE_REACH = dt.timedelta(days=7)

# Codes people write for countries whose ISO code is something else.
_COMMON_MISTAKES = {"UK": "GB", "EL": "GR"}


class HolidaysUnavailable(Exception):
    """The `holidays` package cannot be imported (a broken install: it is a dependency)."""


@dataclass(frozen=True)
class UnknownRegion(Exception):
    """A region code the package does not know; `hint` names the closest known code."""

    message: str
    hint: str | None


def package_version() -> str:
    """The installed `holidays` version, recorded next to every date it supplied."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise HolidaysUnavailable(str(exc)) from exc


def _package() -> Any:
    try:
        import holidays
    except ImportError as exc:
        raise HolidaysUnavailable(str(exc)) from exc
    return holidays


@cache
def supported_regions() -> dict[str, tuple[str, ...]]:
    """ISO country code -> its subdivision codes, as the installed package supports them. The
    package's aliases (`UK`, alpha-3 codes) are left out: one code per region keeps plans and
    diffs comparable."""
    supported = _package().list_supported_countries(include_aliases=False)
    return {c: tuple(s) for c, s in supported.items()}


def parse_region(code: str) -> tuple[str, str | None]:
    """`"GB-ENG"` -> ("GB", "ENG"), `"US"` -> ("US", None); raises UnknownRegion."""
    _package()  # a broken install fails here, not only on the first call
    country, _, subdivision = code.partition("-")
    regions = supported_regions()
    if country not in regions:
        renamed = _COMMON_MISTAKES.get(country.upper(), country.upper())
        fix = renamed + code[len(country):].upper()
        fix = fix if _known(fix) else _COMMON_MISTAKES.get(country)
        hint = (f"did you mean `{fix}`?" if fix else did_you_mean(country, regions)) or (
            "write an ISO 3166-1 alpha-2 country code, e.g. `GB`, `US`, `DE`")
        raise UnknownRegion(f"unknown holiday country `{country}` in `{code}`", hint)
    if not subdivision:
        return country, None
    subs = regions[country]
    if subdivision not in subs:
        known = [f"{country}-{s}" for s in subs]
        hint = did_you_mean(code, known) or (
            f"{country} has subdivisions {', '.join(known)}" if known
            else f"the package has no subdivisions for {country}: write `{country}`")
        raise UnknownRegion(f"unknown subdivision `{subdivision}` of {country} in `{code}`", hint)
    return country, subdivision


def _known(code: str) -> bool:
    country, _, subdivision = code.partition("-")
    subs = supported_regions().get(country)
    return subs is not None and (not subdivision or subdivision in subs)


@cache
def region_holidays(country: str, subdivision: str | None, year: int) -> tuple[
        tuple[dt.date, str], ...]:
    """The holidays of one region in one year as (date, name), in date order: the package's
    dates with observed days, minus the original dates of holidays moved to a substitute day.

    The neighbouring years are computed too: a substitute can cross the new year (New Year's
    Day on a Saturday is observed on Friday 31 December in the US).
    """
    pkg = _package()
    years = range(year - 1, year + 2)
    taken = pkg.country_holidays(country, subdiv=subdivision, years=years)
    actual = pkg.country_holidays(country, subdiv=subdivision, years=years, observed=False)
    moved = _moved_originals(taken, actual)
    out = []
    for day in sorted(d for d in taken if d.year == year):
        names = [n for n in taken.get_list(day) if (day, n) not in moved]
        if names:
            out.append((day, "; ".join(names)))
    return tuple(out)


def _moved_originals(taken: Any, actual: Any) -> set[tuple[dt.date, str]]:
    """(date, name) of every weekend holiday that `taken` lists on a substitute day instead,
    recognised by the package's own label for it (`"%s (observed)"`, translated like the
    names). Each substitute stands for one original, the nearest weekend date of that name not
    yet matched: Serbia's two-day Statehood Day on Sunday and Monday has one substitute, on
    Tuesday, for the Sunday; the Monday stays a holiday."""
    labels = {taken.tr(getattr(taken, attr)) for attr in
              ("observed_label", "observed_label_before", "observed_estimated_label")
              if isinstance(getattr(taken, attr, None), str)}
    labels = {label for label in labels if label.count("%s") == 1}
    originals = [(d, n) for d in sorted(actual) if taken.is_weekend(d)
                 for n in actual.get_list(d)]
    moved: set[tuple[dt.date, str]] = set()
    for day in sorted(taken):
        added = set(taken.get_list(day)) - set(actual.get_list(day) if day in actual else [])
        for label in sorted(added):
            near = [(abs(d - day), d, n) for d, n in originals
                    if d != day and abs(d - day) <= _SUBSTITUTE_REACH
                    and (d, n) not in moved and any(f % n == label for f in labels)]
            if near:
                _, d, n = min(near)
                moved.add((d, n))
    return moved


def region_dates(code: str, years: Iterable[int]) -> dict[dt.date, str]:
    """Every holiday of a region code in the given years: {date: name}."""
    country, subdivision = parse_region(code)
    return {d: n for y in sorted(set(years)) for d, n in region_holidays(country, subdivision, y)}


# ------------------------------------------------------------------------- what was used


@dataclass
class HolidayLedger:
    """The package dates one audit used, per calendar: the audit report's evidence."""

    years: dict[str, set[int]] = field(default_factory=dict)  # calendar id -> years
    regions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def note(self, calendar_id: str, regions: tuple[str, ...], years: Iterable[int]) -> None:
        self.regions[calendar_id] = regions
        self.years.setdefault(calendar_id, set()).update(years)

    def to_dict(self) -> dict[str, Any] | None:
        """`holiday_data`, or None when no calendar with region codes was used."""
        if not self.years:
            return None
        return holiday_data({cid: (self.regions[cid], self.years[cid]) for cid in self.years})


_LEDGER: ContextVar[HolidayLedger | None] = ContextVar("slang_holiday_ledger", default=None)


@contextmanager
def recording() -> Iterator[HolidayLedger]:
    """Record, in the returned ledger, every package date the code inside the block uses."""
    ledger = HolidayLedger()
    token = _LEDGER.set(ledger)
    try:
        yield ledger
    finally:
        _LEDGER.reset(token)


def calendar_holidays(calendar_id: str, typed: Iterable[dt.date], regions: tuple[str, ...],
                      first_year: int, last_year: int) -> set[dt.date]:
    """A calendar's holidays from `first_year` to `last_year`: the dates written in the policy
    and those of its region codes, noted in the active ledger."""
    days = set(typed)
    if regions:
        years = range(first_year, last_year + 1)
        for code in regions:
            days.update(region_dates(code, years))
        ledger = _LEDGER.get()
        if ledger is not None:
            ledger.note(calendar_id, regions, years)
    return days


def holiday_data(calendars: dict[str, tuple[tuple[str, ...], Iterable[int]]]) -> dict[str, Any]:
    """The `holiday_data` record of the plan and the evidence: the package, its version and,
    per calendar id, its region codes, the years expanded and every date with its name."""
    out: dict[str, Any] = {}
    for cid in sorted(calendars):
        regions, years = calendars[cid]
        ys = sorted(set(years))
        dates: dict[dt.date, list[str]] = {}
        for code in regions:
            for d, name in region_dates(code, ys).items():
                dates.setdefault(d, []).append(name if len(regions) == 1 else f"{code}: {name}")
        out[cid] = {
            "regions": list(regions),
            "years": ys,
            "dates": {d.isoformat(): "; ".join(names) for d, names in sorted(dates.items())},
        }
    return {"package": PACKAGE, "version": package_version(), "calendars": out}
