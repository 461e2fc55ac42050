"""Exact values from literals: units, time zones, currencies, and the hints when they are wrong."""

from __future__ import annotations

import difflib
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal
from functools import cache

from slang.syntax import ast

DURATION_UNITS = ("ms", "s", "m", "h", "d", "w")
UNIT_SECONDS = ast.DURATION_SECONDS

# ISO 4217 active codes and their minor units (digits after the decimal point). Credits are
# rounded to the minor unit of the fee's currency.
def _codes(text: str, digits: int) -> dict[str, int]:
    return dict.fromkeys(text.split(), digits)


CURRENCY_MINOR_UNITS: dict[str, int] = {
    **_codes(
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP "
        "BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
        "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT "
        "LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN "
        "NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP "
        "SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES "
        "WST XCD YER ZAR ZMW ZWG",
        2,
    ),
    **_codes(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
        0,
    ),
    **_codes(
        "BHD IQD JOD KWD LYD OMR TND",
        3,
    ),
}


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest known name, if one is close enough to be a typo.

    Typos are mostly one slipped key or two swapped ones, so the edit distance (with
    transpositions) decides first; difflib's similarity breaks ties and catches the rest.
    """
    pool = sorted(set(candidates))
    if not pool:
        return None
    limit = max(1, len(name) // 4)
    scored = [(edit_distance(name.lower(), c.lower()), c) for c in pool]
    best = min(d for d, _ in scored)
    if best <= limit:
        near = [c for d, c in scored if d == best]
        pick = max(near, key=lambda c: difflib.SequenceMatcher(None, name, c).ratio())
        return f"did you mean `{pick}`?"
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, swaps."""
    if abs(len(a) - len(b)) > 3:
        return abs(len(a) - len(b))
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str) -> bool:
    if name in _zones():
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def time_zone_hint(name: str) -> str:
    hint = did_you_mean(name, _zones())
    return hint or "use an IANA time zone name such as `Europe/London` or `UTC`"


def bad_duration_hint(unit: str) -> str:
    if unit in ("mo", "mon", "month", "months", "y", "yr", "year", "years"):
        return (
            "months and years are periods, not durations: use `period monthly`, "
            "or a length in days such as `30d`"
        )
    if unit in ("min", "mins", "minute", "minutes"):
        return "write minutes as `m`, e.g. `5m`"
    if unit in ("sec", "secs", "second", "seconds"):
        return "write seconds as `s`, e.g. `30s`"
    if unit in ("hr", "hrs", "hour", "hours"):
        return "write hours as `h`, e.g. `4h`"
    if unit in ("day", "days"):
        return "write days as `d`, e.g. `28d`"
    return "duration units are ms, s, m, h, d and w"


def to_unit(seconds: Decimal, unit: str) -> Decimal:
    """A duration in seconds expressed in a column's unit (exactly)."""
    return seconds / UNIT_SECONDS[unit]


def minor_units(currency: str) -> int:
    return CURRENCY_MINOR_UNITS[currency]
