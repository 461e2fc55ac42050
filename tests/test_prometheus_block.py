"""The `prometheus { ... }` block of an events source: parsing, formatting and what it means."""

from __future__ import annotations

import slang
from slang.semantics.prometheus import is_selector, unbalanced, wrap_selector
from slang.syntax.formatter import format_text

POLICY = '''
catalogue { service checkout { title "Checkout" key "checkout-v2" } }

events requests from "requests" {
  key service
  prometheus {
    total "http_requests_total{service=\\"{{service}}\\"}"
    good  "http_requests_total{service=\\"{{service}}\\",code!~\\"5..\\"}"
    bad latency "sum(rate(slow_total{service=\\"{{service}}\\"}[{{window}}]))"
    labels { team: "payments", tier: "1" }
  }
}
'''


def _model(text: str, tmp_path) -> slang.Model:
    path = tmp_path / "p.sla"
    path.write_text(text, encoding="utf-8")
    return slang.load([str(path)])


def test_the_block_resolves_to_a_mapping(tmp_path) -> None:
    model = _model(POLICY, tmp_path)
    assert model.ok, model.diagnostics
    prom = model.sources["requests"].prometheus
    assert prom is not None
    total = prom.denominator("availability")
    assert total is not None and total.expr == (
        'sum(rate(http_requests_total{service="{{service}}"}[{{window}}]))'
    )
    assert total.text == 'http_requests_total{service="{{service}}"}'
    assert prom.labels == (("team", "payments"), ("tier", "1"))
    role, query = prom.numerator("availability")
    assert role == "good" and query.expr.startswith("sum(rate(http_requests_total{")
    role, query = prom.numerator("latency")
    assert role == "bad"
    assert query.expr == 'sum(rate(slow_total{service="{{service}}"}[{{window}}]))'


def test_sources_without_a_block_have_no_mapping(tmp_path) -> None:
    model = _model('events requests from "requests" { key service }\n', tmp_path)
    assert model.sources["requests"].prometheus is None


def test_the_block_formats_canonically() -> None:
    text = ('events r from "r" {\n  prometheus { total "a"\n good x "b{c=\\"d\\"}"'
            ' labels {k: "v",} }\n}\n')
    once = format_text(text)
    assert format_text(once) == once
    assert once == (
        'events r from "r" {\n'
        '  prometheus {\n'
        '    total  "a"\n'
        '    good x "b{c=\\"d\\"}"\n'
        '    labels { k: "v" }\n'
        '  }\n'
        '}\n'
    )


def test_selectors_and_queries_are_told_apart() -> None:
    assert is_selector('http_requests_total')
    assert is_selector('http_requests_total{code!~"5..", job="{{service}}"}')
    assert is_selector('{__name__="x"}')
    assert not is_selector('rate(x[5m])')
    assert not is_selector('x{a="b"} / y')
    assert wrap_selector(" x ") == "sum(rate(x[{{window}}]))"


def test_unbalanced_brackets_are_found_outside_strings() -> None:
    assert unbalanced('sum(rate(x{a=")"}[5m]))') is None
    assert unbalanced('sum(rate(x[5m])') == "("
    assert unbalanced('x{a="b"') == "{"
    assert unbalanced('x{a="b}') == '"'


def test_named_queries_pair_up(tmp_path) -> None:
    text = ('events r from "r" { prometheus { total "a" good latency "b" '
            'total authorise "c" } }\n')
    model = _model(text, tmp_path)
    assert [(d.code, d.message) for d in model.errors] == [
        ("SLG0441", "`total authorise` has no `good` or `bad` to go with it")]
    text = 'events r from "r" { prometheus { total x "a" good "b" good x "c" } }\n'
    model = _model(text, tmp_path)
    assert [(d.code, d.message) for d in model.errors] == [
        ("SLG0441", "no `total` for the unnamed `good`/`bad`")]
    ok = 'events r from "r" { prometheus { total "a" good latency "b" } }\n'
    assert _model(ok, tmp_path).errors == []
