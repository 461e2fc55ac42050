"""One self-contained HTML page: the frame around the review report and the catalogue.

Self-contained means it can be e-mailed, archived and opened years later offline: the styles
are inline, the charts are inline SVG, there is no script, font, image or link to fetch. The
Content-Security-Policy says so to the browser too (`default-src 'none'`), so even a string
that escaped escaping could not load or run anything. The markup is also well-formed XML
(every element closed, every attribute quoted), which lets the tests parse it strictly.
"""

from __future__ import annotations

from slang.report.svg import COLOURS, esc

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  margin: 0 auto; max-width: 1040px; padding: 24px 32px 48px; line-height: 1.45; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 8px; padding-top: 12px; border-top: 2px solid #d0d7de; }
h3 { font-size: 17px; margin: 24px 0 8px; }
h4 { font-size: 15px; margin: 18px 0 6px; }
p.lead { color: #57606a; margin: 0 0 16px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px;
  background: #f6f8fa; padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 22px; }
.status { font-weight: 600; white-space: nowrap; }
.status.met { color: MET; }
.status.breached { color: BREACHED; }
.status.at_risk { color: AT_RISK; }
.status.no_data { color: NO_DATA; }
.flag { border-left: 4px solid BREACHED; padding: 2px 10px; margin: 6px 0; }
.flag.at_risk { border-left-color: AT_RISK; }
figure { margin: 8px 0 16px; }
figcaption { font-size: 12px; color: #57606a; }
svg.chart, svg.graph { max-width: 100%; height: auto; display: block; }
.muted { color: #57606a; }
footer { margin-top: 40px; font-size: 12px; color: #57606a; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section.agreement, section.service { break-before: page; }
  figure, table, .flag { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def style() -> str:
    out = STYLE
    for name in ("met", "breached", "at_risk", "no_data"):
        out = out.replace(name.upper(), COLOURS[name])
    return out


def page(title: str, body: str) -> str:
    """The whole document around `body` (already escaped markup)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}"/>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
        f"<title>{esc(title)}</title>\n<style>{style()}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def table(header: list[str] | None, rows: list[list[str]], numeric: set[int] | None = None,
          css_class: str = "") -> str:
    """A table from cells that are already markup (escape text with `esc` first); without a
    header, the first cell of each row is its heading."""
    numeric = numeric or set()
    cls = f' class="{esc(css_class)}"' if css_class else ""
    if header is None:
        body = "".join(f"<tr><th>{row[0]}</th>" + "".join(f"<td>{c}</td>" for c in row[1:])
                       + "</tr>" for row in rows)
        return f"<table{cls}><tbody>{body}</tbody></table>"
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
