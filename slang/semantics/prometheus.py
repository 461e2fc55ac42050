"""A source's `prometheus { ... }` block -> `PrometheusMapping`, with its checks (SLG0440-0445).

slang does not parse PromQL (Prometheus does, when it loads the exported rules): it checks what
would otherwise only fail far from the policy. A query is either a bare series selector
(`http_requests_total{code!~"5.."}`), which the export wraps as a per-second rate summed over
series, or a whole query that names its range with `{{window}}`. Placeholders are the only
template syntax, so a misspelt one (`{{.window}}` from a Sloth spec) is an error here rather
than a broken rule file later.
"""

from __future__ import annotations

import re

from slang.diagnostics import Diagnostic, error, warning
from slang.semantics import model as m
from slang.syntax import ast

PLACEHOLDERS = ("service", "window")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# Labels slang itself puts on exported rules; a user label of these names would be overwritten.
RESERVED_LABEL_PREFIXES = ("__", "slang_")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

_METRIC = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_STRING = r'"(?:[^"\\]|\\.)*"'
_MATCHER = rf"\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*{_STRING}\s*"
_MATCHERS = rf"\{{(?:{_MATCHER}(?:,{_MATCHER})*,?\s*)?\}}"
SELECTOR = re.compile(rf"\s*(?:{_METRIC}\s*(?:{_MATCHERS})?|{_MATCHERS})\s*")


def wrap_selector(selector: str) -> str:
    """The query a bare selector stands for: requests per second, summed over its series."""
    return f"sum(rate({selector.strip()}[{{{{window}}}}]))"


def is_selector(text: str) -> bool:
    return SELECTOR.fullmatch(_blank_placeholders(text)) is not None


def _blank_placeholders(text: str) -> str:
    return PLACEHOLDER.sub("x", text)


def unbalanced(text: str) -> str | None:
    """The first bracket that does not pair up outside string literals, if any."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    for ch in _blank_placeholders(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'`":
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack[-1] != pairs[ch]:
                return ch
            stack.pop()
    if quote is not None:
        return quote
    return stack[-1] if stack else None


def resolve_prometheus(prom: ast.PrometheusMap, has_key: bool, diags: list[Diagnostic]
                       ) -> m.PrometheusMapping | None:
    total: dict[str | None, m.PromQuery] = {}
    good: dict[str | None, m.PromQuery] = {}
    bad: dict[str | None, m.PromQuery] = {}
    labels: dict[str, str] = {}
    seen: dict[tuple[str, str | None], ast.PromQuery] = {}
    ok = True
    for item in prom.items:
        if isinstance(item, ast.PromLabels):
            ok = _labels(item, labels, diags) and ok
            continue
        scope = item.objective.name if item.objective is not None else None
        query = _query(item, diags)
        if query is None:
            ok = False
            continue
        clash = seen.get((item.role, scope)) or (
            seen.get(("bad" if item.role == "good" else "good", scope))
            if item.role != "total" else None)
        if clash is not None:
            what = f"for objective `{scope}`" if scope else "by default"
            diags.append(error(
                "SLG0445", f"`{item.role}` given twice {what}" if clash.role == item.role
                else f"both `good` and `bad` given {what}",
                item.span, f"first at line {clash.span.line}; a ratio has one numerator: "
                "`good` (good / total) or `bad` ((total - bad) / total)",
            ))
            ok = False
            continue
        seen[(item.role, scope)] = item
        if item.role == "total":
            total[scope] = query
        else:
            (good if item.role == "good" else bad)[scope] = query
    if ok and not total:
        diags.append(error("SLG0441", "the prometheus block has no `total` query", prom.span,
                           'add `total "SELECTOR"`: the series every event counts in'))
        ok = False
    if ok and not good and not bad:
        diags.append(error("SLG0441", "the prometheus block has no `good` or `bad` query",
                           prom.span, 'add `good "SELECTOR"` (or `bad "SELECTOR"`)'))
        ok = False
    if ok:
        ok = _pairs_up(prom, total, good, bad, diags)
    if not ok:
        return None
    queries = [*total.values(), *good.values(), *bad.values()]
    if has_key and not any("service" in _placeholders(q.text) for q in queries):
        diags.append(warning(
            "SLG0443", "the prometheus queries do not use `{{service}}`", prom.span,
            "the source has a `key`, so its rows are per service, but every agreement would "
            'export the same series; add a matcher such as `service="{{service}}"`',
        ))
    return m.PrometheusMapping(
        total=tuple(total.items()), good=tuple(good.items()), bad=tuple(bad.items()),
        labels=tuple(sorted(labels.items())), span=prom.span,
    )


def _pairs_up(prom: ast.PrometheusMap, total: dict[str | None, m.PromQuery],
              good: dict[str | None, m.PromQuery], bad: dict[str | None, m.PromQuery],
              diags: list[Diagnostic]) -> bool:
    """Every numerator has a total (its own or the unnamed one); a named total has a
    numerator (its own or the unnamed one)."""
    numerators = set(good) | set(bad)
    ok = True
    for name in sorted((n for n in numerators if n not in total and None not in total),
                       key=str):
        what = f"objective `{name}`" if name else "the unnamed `good`/`bad`"
        diags.append(error("SLG0441", f"no `total` for {what}", prom.span,
                           'add an unnamed `total "..."`'
                           + (f' or `total {name} "..."`' if name else "")))
        ok = False
    for name in sorted(n for n in total if n is not None and n not in numerators
                       and None not in numerators):
        diags.append(error("SLG0441", f"`total {name}` has no `good` or `bad` to go with it",
                           prom.span, f'add `good {name} "..."` or `bad {name} "..."`'))
        ok = False
    return ok


def _placeholders(text: str) -> list[str]:
    return [p for p in PLACEHOLDER.findall(text)]


def _query(item: ast.PromQuery, diags: list[Diagnostic]) -> m.PromQuery | None:
    text = item.query.value
    span = item.query.span
    for name in _placeholders(text):
        if name not in PLACEHOLDERS:
            hint = ("Sloth's `{{.window}}` is written `{{window}}` here"
                    if name.lstrip(".") in PLACEHOLDERS
                    else "the placeholders are `{{service}}` (the agreement's service key) "
                    "and `{{window}}` (the rule's range, e.g. `5m`)")
            diags.append(error("SLG0442", f"unknown placeholder `{{{{{name}}}}}`", span, hint))
            return None
    if not text.strip():
        diags.append(error("SLG0440", f"the `{item.role}` query is empty", span,
                           'write a selector such as `http_requests_total{code!~"5.."}`'))
        return None
    bad = unbalanced(text)
    if bad is not None:
        diags.append(error("SLG0440", f"`{bad}` does not pair up in this PromQL", span,
                           "check the brackets and quotes of the query"))
        return None
    if is_selector(text):
        return m.PromQuery(text, wrap_selector(text), span)
    if "window" not in _placeholders(text):
        diags.append(error(
            "SLG0440", f"the `{item.role}` query is not a series selector and has no "
            "`{{window}}`", span,
            'write a bare selector (`http_requests_total{code!~"5.."}`, exported as '
            '`sum(rate(...[{{window}}]))`) or a whole query with `[{{window}}]` as its range',
        ))
        return None
    return m.PromQuery(text, text, span)


def _labels(item: ast.PromLabels, labels: dict[str, str], diags: list[Diagnostic]) -> bool:
    ok = True
    for e in item.entries:
        name = e.name.name
        if not LABEL_NAME.fullmatch(name) or name.startswith(RESERVED_LABEL_PREFIXES):
            diags.append(error(
                "SLG0444", f"`{name}` cannot be a label of an exported rule", e.name.span,
                "label names are letters, digits and `_`, not starting with a digit; names "
                "starting with `__` or `slang_` are reserved",
            ))
            ok = False
            continue
        if name in labels:
            diags.append(error("SLG0444", f"label `{name}` is given twice", e.name.span))
            ok = False
            continue
        labels[name] = e.value.value
    return ok
