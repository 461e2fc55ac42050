"""The `burn_rate { ... }` block: what the resolver makes of it, its defaults, and its checks."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

import slang
from slang.engine.outcome import burn_rate_factor
from slang.semantics.burn_rates import (
    DEFAULT_BURN_RATES,
    burn_rate_text,
    duration_text,
    percent_text,
)

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def policy(period: str, block: str = "") -> str:
    return f"""
catalogue {{ service api {{ title "API" }} }}
events requests from "requests" {{ key service }}
agreement a {{
  service api
  status  agreed
  period  {period}
  {block}
  objective availability {{
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }}
}}
"""


def load(tmp_path, text: str):
    path = tmp_path / "p.sla"
    path.write_text(text, encoding="utf-8")
    return slang.load([str(path)])


def test_a_block_resolves_to_exact_windows(tmp_path) -> None:
    model = load(tmp_path, policy("monthly", "burn_rate { page 2% in 1h / 5m  ticket 0.25% in "
                                             "90m / 7.5m }"))
    assert model.errors == []
    page, ticket = model.agreements["a"].burn_rates
    assert (page.severity, page.budget_fraction, page.long_window, page.short_window) == (
        "page", Fraction(1, 50), H, 5 * M)
    assert (ticket.severity, ticket.budget_fraction, ticket.long_window, ticket.short_window) == (
        "ticket", Fraction(1, 400), 90 * M, dt.timedelta(minutes=7, seconds=30))
    assert burn_rate_text(ticket) == "ticket 0.25% in 90m / 450s"


def test_without_a_block_a_monthly_agreement_has_the_workbook_defaults(tmp_path) -> None:
    model = load(tmp_path, policy("monthly"))
    a = model.agreements["a"]
    assert a.burn_rates == DEFAULT_BURN_RATES
    factors = [burn_rate_factor(w.budget_fraction, a.period,
                                Fraction(int(w.long_window.total_seconds()), 3600))
               for w in a.burn_rates]
    assert factors == [Fraction(72, 5), 6, 1]  # 14.4, 6, 1


@pytest.mark.parametrize(("period", "kept"), [
    ("daily", 2), ("hourly", 1), ("weekly", 3), ("rolling 72h", 3), ("rolling 48h", 2),
])
def test_default_windows_longer_than_the_period_are_left_out(tmp_path, period, kept) -> None:
    model = load(tmp_path, policy(period))
    assert model.errors == []
    assert model.agreements["a"].burn_rates == DEFAULT_BURN_RATES[:kept]


def test_an_empty_block_means_no_alerts(tmp_path) -> None:
    model = load(tmp_path, policy("monthly", "burn_rate {}"))
    assert model.errors == [] and model.agreements["a"].burn_rates == ()


@pytest.mark.parametrize(("line", "code"), [
    ("pages 2% in 1h / 5m", "SLG0430"),
    ("page 0% in 1h / 5m", "SLG0431"),
    ("page 100.5% in 1h / 5m", "SLG0431"),
    ("page 2% in 1h / 1h", "SLG0431"),
    ("page 2% in 1h / 0m", "SLG0431"),
    ("page 2% in 1h / 2h", "SLG0431"),
    ("page 2% in 31d / 1h", "SLG0431"),
])
def test_bad_lines_are_reported_and_left_out(tmp_path, line, code) -> None:
    model = load(tmp_path, policy("monthly", f"burn_rate {{ {line}  page 5% in 6h / 30m }}"))
    assert [d.code for d in model.errors] == [code]


def test_a_whole_period_window_and_all_of_the_budget_are_allowed(tmp_path) -> None:
    model = load(tmp_path, policy("monthly", "burn_rate { ticket 100% in 30d / 1d }"))
    assert model.errors == []
    (w,) = model.agreements["a"].burn_rates
    assert w.long_window == dt.timedelta(days=30)


def test_a_second_block_is_reported(tmp_path) -> None:
    model = load(tmp_path, policy("monthly", "burn_rate {} burn_rate {}"))
    assert [d.code for d in model.errors] == ["SLG0410"]


def test_texts() -> None:
    assert percent_text(Fraction(1, 50)) == "2%"
    assert percent_text(Fraction(1, 8)) == "12.5%"
    assert duration_text(dt.timedelta(days=3)) == "3d"
    assert duration_text(dt.timedelta(milliseconds=1500)) == "1500ms"
