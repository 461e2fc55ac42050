"""The service review report as Markdown: for a pull request, a wiki or an e-mail.

Every string a policy author wrote (titles, customers, reasons, descriptions) is escaped, so a
service called `<script>` or `*bold*` reads as written and never as markup: Markdown
punctuation gets a backslash, `<`, `>` and `&` become entities (Markdown passes raw HTML
through), and code spans are fenced with more backticks than they contain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from slang.report.review import (
    AgreementView,
    BurnChart,
    ObjectiveView,
    ReviewReport,
    agreement_facts,
)

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_BLOCK_START = re.compile(r"^(\d*)([#>\-+=.)])")
STATUS_WORDS = {"met": "met", "breached": "**breached**", "at_risk": "**at risk**",
                "no_data": "no data"}


def md(text: str) -> str:
    """Plain text that stays plain in Markdown (and in the HTML a Markdown renderer makes)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split())  # newlines would end a table row or a list item


def md_paragraph(text: str) -> str:
    """`md`, for text that starts a line: a leading `#`, `>`, `-`, `1.` would make it a
    heading, a quote or a list."""
    text = md(text)
    return _BLOCK_START.sub(r"\1\\\2", text)


def code(text: str) -> str:
    """A code span whose fence is longer than any run of backticks inside; `|` escaped for
    tables (GitHub reads `\\|` as a pipe even inside a code span)."""
    text = " ".join(text.split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    head = list(header)
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def render_review_markdown(review: ReviewReport) -> str:
    out = [f"# {md(review.title)}", "",
           f"As of {review.as_of}. {md(review.selection)}.", ""]
    out += _summary(review)
    for a in review.agreements:
        out += _agreement(a)
    out += _evidence(review)
    return "\n".join(out).rstrip("\n") + "\n"


def _summary(review: ReviewReport) -> list[str]:
    c = review.counts
    n = len(review.agreements)
    out = ["## Summary", ""]
    if not review.agreements:
        return [*out, "No agreement had a period in the selection.", ""]
    credits = ", ".join(f"{amount} {cur}" for cur, amount in review.credits_total) or "none"
    out += [
        f"- {_plural(n, 'agreement')}, {_plural(sum(c.values()), 'result')}: {c['met']} met, "
        f"{c['breached']} breached, {c['at_risk']} at risk, {c['no_data']} without data.",
        f"- Credits owed: {credits}.",
    ]
    flagged = [(a, b) for a in review.agreements for b in (*a.breaches, *a.at_risk)]
    for a, b in flagged:
        word = "at risk" if b in a.at_risk else "breached"
        out.append(f"- {md(a.name)} {md(b.objective)} {md(b.period)}: {word} "
                   f"({md(b.measured_text)} against {md(b.target_text)})")
    worsening = [(a.name, o.name) for a in review.agreements for o in a.objectives
                 if o.worsening]
    for agreement, objective in worsening:
        out.append(f"- {md(agreement)} {md(objective)}: worsening trend")
    out.append("")
    if review.customer_credits:
        out += _table(["Customer", "Credits owed"],
                      ([md(cc.customer), f"{cc.amount} {cc.currency}"]
                       for cc in review.customer_credits))
        out.append("")
    return out


def _agreement(a: AgreementView) -> list[str]:
    who = f" for {md(a.customer)}" if a.customer else ""
    out = [f"## {md(a.headline)}{who} ({md(a.name)})", ""]
    if a.description:
        out += [md_paragraph(a.description), ""]
    facts = agreement_facts(a, md, lambda n: f"({code(n)})")
    out += _table(["", ""], facts)
    out += ["", "### What was promised", ""]
    out += _table(["Objective", "Indicator", "Target", "Hours", "Credit"], (
        [md(o.name), code(o.indicator_text), md(o.target_text), md(o.hours_text),
         md(o.credit_text or "none")] for o in a.objectives))
    out.append("")
    if a.exclusions:
        out += ["Excluded from the measurement:", ""]
        for x in a.exclusions:
            reason = md(x.reason) if x.reason else "no reason given"
            mode = " (counted as available)" if x.as_available else ""
            out.append(f"- {code(x.scope)}{mode}: {reason}")
        out.append("")
    out += ["### What was delivered", ""]
    for o in a.objectives:
        out += _objective(o)
    out += _credits(a)
    if a.burn is not None:
        out += _burn(a.burn)
    return out


def _objective(o: ObjectiveView) -> list[str]:
    out = [f"#### {md(o.name)}", ""]
    if o.description:
        out += [md_paragraph(o.description), ""]
    out += [f"Target {md(o.target_text)}. Trend: {md(o.trend_text)}.", ""]
    rows = []
    for r in o.rows:
        label = md(r.label) + (" (running)" if r.running else "")
        measured = md(r.measured_text)
        if r.projected_text and r.projected_text != r.measured_text:
            measured += f" (projected {md(r.projected_text)})"
        rows.append([label, measured, STATUS_WORDS[r.status], md(r.budget_text),
                     md(r.excluded_text), md(r.credit_text), r.change or "-"])
    out += _table(["Period", "Measured", "Status", "Error budget used", "Excluded",
                   "Credit", "Against previous"], rows)
    out.append("")
    return out


def _credits(a: AgreementView) -> list[str]:
    out = ["### Breaches and credits", ""]
    if not a.breaches and not a.at_risk:
        out += ["No breach in these periods.", ""]
    for b in a.breaches:
        out.append(f"- {md(b.objective)}, {md(b.period)}: breached, measured "
                   f"{md(b.measured_text)} against {md(b.target_text)}; credit "
                   f"{md(b.credit_text)}")
    for b in a.at_risk:
        out.append(f"- {md(b.objective)}, {md(b.period)} (running): at risk, measured "
                   f"{md(b.measured_text)} against {md(b.target_text)} so far")
    if a.breaches or a.at_risk:
        out.append("")
    if a.currency is None:
        out += ["No fee: no credits are owed under this agreement.", ""]
        return out
    if a.credits:
        out += _table(["Period", "Objectives' credits", "Cap adjustment", "Owed"], (
            [md(c.period), f"{c.objectives} {c.currency}", f"{c.adjustment} {c.currency}",
             f"**{c.total} {c.currency}**" if c.total else f"{c.total} {c.currency}"]
            for c in a.credits))
        out.append("")
    out += [f"Credits owed over these periods: **{a.credits_total} {a.currency}**.", ""]
    return out


def _burn(b: BurnChart) -> list[str]:
    state = "running" if b.running else "complete"
    out = [f"### Error budget, {md(b.period)} ({state})", ""]
    rows = [[md(s.objective), md(s.remaining_text), md(s.spent_on or "not spent")]
            for s in b.series]
    out += _table(["Objective", "Budget remaining", "Spent during"], rows)
    out.append("")
    return out


def _evidence(review: ReviewReport) -> list[str]:
    e = review.evidence
    out = ["## Evidence", "", f"Plan SHA-256: {code(e.plan_sha256)}", ""]
    if e.data:
        out += _table(["Table", "Path", "Rows", "SHA-256"],
                      ([md(t), code(p), str(n), code(h)] for t, p, h, n in e.data))
        out.append("")
    out += _table(["Policy file", "SHA-256"], ([code(p), code(h)] for p, h in e.policies))
    out.append("")
    return out
