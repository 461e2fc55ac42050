"""Inline SVG charts for the review report and the catalogue: no script, no font, no network.

Each chart is a plain string of SVG markup, built from numbers only: coordinates are written
with two decimals, so the same figures always give the same bytes. Every piece of text that
comes from a policy goes through `esc` (XML/HTML escaping, quotes included), and every chart
carries a `<title>` for screen readers and hover text.

The colours are fixed and shared with the stylesheet (`COLOURS`), which is also what the
browser test looks for in its screenshot.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

COLOURS = {
    "measured": "#0969da",  # the measured line
    "target": "#57606a",  # the target line, axes
    "good": "#dafbe1",  # the side of the target that meets it
    "met": "#1a7f37",
    "breached": "#cf222e",
    "at_risk": "#bf8700",
    "no_data": "#8c959f",
    "grid": "#d0d7de",
    "ideal": "#8c959f",
    "credit": "#cf222e",
    "node": "#ddf4ff",
    "node_internal": "#f6f8fa",
    "edge": "#57606a",
}
# Burn-down series, in objective order.
PALETTE = ("#0969da", "#8250df", "#bf3989", "#1b7c83", "#953800", "#4d2d00", "#6e7781")
FONT = "font-family=\"sans-serif\" font-size=\"11\""


# Characters XML does not allow (C0 controls other than tab, newline and carriage return, and
# the non-characters U+FFFE and U+FFFF), which no browser would show either: a policy string
# holding one is written without it.
_CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


def esc(text: str) -> str:
    """Text for HTML and SVG, in element content or a quoted attribute."""
    return html.escape(text.translate(_CONTROL), quote=True)


def n(v: float) -> str:
    """A coordinate: two decimals, no `-0.00`."""
    text = f"{v:.2f}"
    return "0.00" if text == "-0.00" else text


@dataclass(frozen=True)
class Frame:
    """The plotting area inside a chart of `width` x `height`."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int

    @property
    def x0(self) -> float:
        return float(self.left)

    @property
    def x1(self) -> float:
        return float(self.width - self.right)

    @property
    def y0(self) -> float:  # bottom of the plot
        return float(self.height - self.bottom)

    @property
    def y1(self) -> float:  # top of the plot
        return float(self.top)


def scale(v: float, lo: float, hi: float, a: float, b: float) -> float:
    if hi == lo:
        return (a + b) / 2
    return a + (v - lo) * (b - a) / (hi - lo)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        ticks.append(round(first + k * step, 12))
        k += 1
    return ticks


def tick_text(v: float, step: float, percent: bool) -> str:
    """A tick label with as many decimals as the step needs."""
    shown = v * 100 if percent else v
    s = step * 100 if percent else step
    decimals = max(0, -math.floor(math.log10(s) + 1e-9)) if s > 0 else 0
    text = f"{shown:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text + ("%" if percent else "")


def open_svg(frame: Frame, title: str, css_class: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{esc(css_class)}" role="img" '
            f'width="{frame.width}" height="{frame.height}" '
            f'viewBox="0 0 {frame.width} {frame.height}"><title>{esc(title)}</title>')


def text(x: float, y: float, content: str, anchor: str = "start", extra: str = "") -> str:
    return (f'<text x="{n(x)}" y="{n(y)}" text-anchor="{anchor}" {FONT}{extra}>'
            f"{esc(content)}</text>")


def line(x1: float, y1: float, x2: float, y2: float, colour: str, extra: str = "") -> str:
    return (f'<line x1="{n(x1)}" y1="{n(y1)}" x2="{n(x2)}" y2="{n(y2)}" '
            f'stroke="{colour}"{extra}/>')


def y_axis(frame: Frame, lo: float, hi: float, percent: bool) -> list[str]:
    """Horizontal grid lines with labels at round values."""
    ticks = nice_ticks(lo, hi)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else max(abs(hi - lo), 1e-9)
    out = []
    for t in ticks:
        y = scale(t, lo, hi, frame.y0, frame.y1)
        out.append(line(frame.x0, y, frame.x1, y, COLOURS["grid"]))
        out.append(text(frame.x0 - 6, y + 4, tick_text(t, step, percent), "end",
                        f' fill="{COLOURS["target"]}"'))
    return out


# ------------------------------------------------------------------ measured against target


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None  # None: no data in this period
    status: str
    running: bool
    hover: str  # the point's <title>: period, value, status


def _value_range(values: Sequence[float], target: float, percent: bool) -> tuple[float, float]:
    lo, hi = min(*values, target), max(*values, target)
    span = hi - lo
    pad = span * 0.15 if span > 0 else (abs(hi) * 0.001 if hi else 1.0)
    lo, hi = lo - pad, hi + pad
    if percent:
        hi = min(hi, 1.0) if max(values, default=0) <= 1 and target <= 1 else hi
        lo = max(lo, 0.0)
    return lo, hi


def measured_chart(title: str, points: Sequence[Point], op: str, target: float,
                   target_label: str, percent: bool) -> str:
    """The measured value per period against the target: a line through the periods, points
    coloured by status (hollow while running), the target dashed, its good side shaded."""
    frame = Frame(640, 220, 64, 16, 14, 42)
    known = [p.value for p in points if p.value is not None]
    lo, hi = _value_range(known or [target], target, percent)
    out = [open_svg(frame, title, "chart measured-chart")]
    ty = scale(target, lo, hi, frame.y0, frame.y1)
    good_top, good_bottom = (frame.y1, ty) if op in (">=", ">") else (ty, frame.y0)
    if op != "==":
        out.append(f'<rect class="good-side" x="{n(frame.x0)}" y="{n(good_top)}" '
                   f'width="{n(frame.x1 - frame.x0)}" height="{n(good_bottom - good_top)}" '
                   f'fill="{COLOURS["good"]}"/>')
    out += y_axis(frame, lo, hi, percent)
    out.append(line(frame.x0, ty, frame.x1, ty, COLOURS["target"],
                    ' class="target-line" stroke-width="1.5" stroke-dasharray="6 4"'))
    out.append(text(frame.x1, ty - 5, target_label, "end", f' fill="{COLOURS["target"]}"'))
    xs = _category_x(frame, len(points))
    segment: list[str] = []
    segments: list[list[str]] = []
    for x, p in zip(xs, points, strict=True):
        if p.value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{n(x)},{n(scale(p.value, lo, hi, frame.y0, frame.y1))}")
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            out.append(f'<polyline class="measured-line" fill="none" '
                       f'stroke="{COLOURS["measured"]}" stroke-width="2" '
                       f'points="{" ".join(seg)}"/>')
    for x, p in zip(xs, points, strict=True):
        if p.value is None:
            out.append(text(x, frame.y0 - 4, "no data", "middle",
                            f' fill="{COLOURS["no_data"]}"'))
            continue
        y = scale(p.value, lo, hi, frame.y0, frame.y1)
        colour = COLOURS.get(p.status, COLOURS["no_data"])
        fill = "#ffffff" if p.running else colour
        out.append(f'<circle class="point {esc(p.status)}" cx="{n(x)}" cy="{n(y)}" r="5" '
                   f'fill="{fill}" stroke="{colour}" stroke-width="2">'
                   f"<title>{esc(p.hover)}</title></circle>")
    out += _x_labels(frame, xs, [p.label + ("*" if p.running else "") for p in points])
    out.append(line(frame.x0, frame.y0, frame.x1, frame.y0, COLOURS["target"]))
    out.append("</svg>")
    return "".join(out)


def _category_x(frame: Frame, count: int) -> list[float]:
    if count == 1:
        return [(frame.x0 + frame.x1) / 2]
    inset = 24.0
    return [scale(i, 0, count - 1, frame.x0 + inset, frame.x1 - inset) for i in range(count)]


def _x_labels(frame: Frame, xs: Sequence[float], labels: Sequence[str]) -> list[str]:
    """Every k-th label, so that they never overlap (about 7 px per character)."""
    if not labels:
        return []
    widest = max(len(label) for label in labels) * 7 + 8
    room = (frame.x1 - frame.x0) / max(len(labels), 1)
    every = max(1, math.ceil(widest / room))
    out = []
    for i, (x, label) in enumerate(zip(xs, labels, strict=True)):
        if i % every == 0:
            out.append(text(x, frame.y0 + 16, label, "middle"))
    return out


# ------------------------------------------------------------------------------ burn-down


@dataclass(frozen=True)
class Series:
    name: str
    times: Sequence[int]
    values: Sequence[float]  # remaining budget, 1 = all of it
    legend: str


def burn_down_chart(title: str, series: Sequence[Series], start: int, end: int,
                    as_of: int | None, ticks: Sequence[tuple[int, str]]) -> str:
    """Remaining error budget over a period: one line per objective, the even-spending line
    dashed from 100 % at the start to 0 % at the end, the zero line where the budget is spent,
    and a marker at `as_of` for a running period."""
    rows = math.ceil(len(series) / 2)
    frame = Frame(640, 230 + 18 * rows, 64, 16, 14, 42 + 18 * rows)
    lowest = min((min(s.values) for s in series if s.values), default=0.0)
    lo, hi = min(0.0, lowest), 1.0
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    out = [open_svg(frame, title, "chart burn-chart")]
    out += y_axis(frame, lo, hi, True)

    def x_of(t: int) -> float:
        return scale(t, start, end, frame.x0, frame.x1)

    def y_of(v: float) -> float:
        return scale(v, lo, hi, frame.y0, frame.y1)

    out.append(line(x_of(start), y_of(1.0), x_of(end), y_of(0.0), COLOURS["ideal"],
                    ' class="ideal-line" stroke-dasharray="4 4"'))
    out.append(line(frame.x0, y_of(0.0), frame.x1, y_of(0.0), COLOURS["breached"],
                    ' class="spent-line" stroke-width="1.5"'))
    out.append(text(frame.x1, y_of(0.0) - 5, "budget spent", "end",
                    f' fill="{COLOURS["breached"]}"'))
    if as_of is not None and start < as_of < end:
        out.append(line(x_of(as_of), frame.y1, x_of(as_of), frame.y0, COLOURS["target"],
                        ' class="as-of-line" stroke-dasharray="2 3"'))
        out.append(text(x_of(as_of) + 4, frame.y1 + 10, "as of", "start",
                        f' fill="{COLOURS["target"]}"'))
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{n(x_of(t))},{n(y_of(v))}" for t, v in zip(s.times, s.values,
                                                                      strict=True))
        out.append(f'<polyline class="burn-line" fill="none" stroke="{colour}" '
                   f'stroke-width="2" points="{pts}"><title>{esc(s.legend)}</title></polyline>')
    for t, label in ticks:
        out.append(line(x_of(t), frame.y0, x_of(t), frame.y0 + 4, COLOURS["target"]))
        out.append(text(x_of(t), frame.y0 + 16, label, "middle"))
    out.append(line(frame.x0, frame.y0, frame.x1, frame.y0, COLOURS["target"]))
    legend_y = frame.y0 + 36
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        x = frame.x0 + (i % 2) * 280
        y = legend_y + (i // 2) * 18
        out.append(f'<rect x="{n(x)}" y="{n(y - 9)}" width="14" height="10" fill="{colour}"/>')
        out.append(text(x + 20, y, s.legend))
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------------------------- bars


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    value_text: str
    group: str  # bars are scaled within their group (a currency)


def bar_chart(title: str, bars: Sequence[Bar]) -> str:
    """Horizontal bars, one per row, each scaled against the largest of its group: credits
    per customer, one group per currency (pounds and dollars are not one axis)."""
    row = 30
    frame = Frame(640, 16 + row * max(len(bars), 1), 200, 130, 8, 8)
    out = [open_svg(frame, title, "chart bar-chart")]
    largest: dict[str, float] = {}
    for b in bars:
        largest[b.group] = max(largest.get(b.group, 0.0), b.value)
    for i, b in enumerate(bars):
        y = frame.y1 + i * row
        out.append(text(frame.x0 - 8, y + 18, _clip(b.label, 30), "end"))
        top = largest[b.group]
        width = 0.0 if top <= 0 else (frame.x1 - frame.x0) * b.value / top
        out.append(f'<rect class="bar" x="{n(frame.x0)}" y="{n(y + 6)}" '
                   f'width="{n(max(width, 2.0))}" height="18" '
                   f'fill="{COLOURS["credit"] if b.value > 0 else COLOURS["grid"]}">'
                   f"<title>{esc(b.label)}: {esc(b.value_text)}</title></rect>")
        out.append(text(frame.x0 + max(width, 2.0) + 6, y + 19, b.value_text))
    if not bars:
        out.append(text(frame.x0, 24, "no credits owed"))
    out.append("</svg>")
    return "".join(out)


def _clip(label: str, width: int) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


# ------------------------------------------------------------------------ dependency graph


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    sublabel: str
    layer: int
    internal: bool
    covered: bool  # has an agreement of its own


NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 168, 44, 24, 56, 16
BEND_W = 12  # the slot a long edge takes in each row it crosses


@dataclass(frozen=True)
class GraphLayout:
    """Top-left corners of the boxes, the polyline of every edge, and the picture's size."""

    boxes: dict[str, tuple[float, float]]
    edges: dict[tuple[str, str], tuple[tuple[float, float], ...]]
    width: float
    height: float


def graph_layout(nodes: Sequence[Node], edges: Sequence[tuple[str, str]]) -> GraphLayout:
    """Layered drawing: one row per layer (every edge points down). An edge that spans several
    rows gets a narrow slot of its own in each row it crosses, so that no edge runs through a
    box. Within a row, slots are ordered by the mean position of what points to them in the
    row above (ties: boxes before bends, then by name); rows are centred. The same graph always
    gets the same picture."""
    layer = {x.id: x.layer for x in nodes}
    width: dict[str, float] = {x.id: float(NODE_W) for x in nodes}
    rows: dict[int, list[str]] = {}
    for x in sorted(nodes, key=lambda x: x.id):
        rows.setdefault(x.layer, []).append(x.id)
    parents: dict[str, list[str]] = {x.id: [] for x in nodes}
    chains: dict[tuple[str, str], list[str]] = {}
    for a, b in sorted(edges):
        if a not in layer or b not in layer or layer[b] <= layer[a]:
            continue
        chain = [a]
        for k in range(layer[a] + 1, layer[b]):
            bend = f"{a}>{b}@{k}"
            width[bend] = float(BEND_W)
            parents[bend] = [chain[-1]]
            rows.setdefault(k, []).append(bend)
            chain.append(bend)
        parents[b].append(chain[-1])
        chains[(a, b)] = [*chain, b]
    row_width = {k: sum(width[i] for i in r) + GAP_X * (len(r) - 1) for k, r in rows.items()}
    widest = max(row_width.values(), default=0.0)
    centre: dict[str, float] = {}
    top: dict[str, float] = {}
    for k in sorted(rows):
        def barycentre(i: str) -> tuple[float, bool, str]:
            placed = [centre[p] for p in parents.get(i, []) if p in centre]
            return (sum(placed) / len(placed) if placed else float("inf"), i in layer, i)
        row = sorted(rows[k], key=barycentre) if k > min(rows) else rows[k]
        x = PAD + (widest - row_width[k]) / 2
        for i in row:
            centre[i] = x + width[i] / 2
            top[i] = PAD + k * (NODE_H + GAP_Y)
            x += width[i] + GAP_X
    boxes = {i: (centre[i] - NODE_W / 2, top[i]) for i in layer}
    lines: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {}
    for (a, b), chain in chains.items():
        points = [(centre[a], top[a] + NODE_H)]
        for bend in chain[1:-1]:
            points += [(centre[bend], top[bend]), (centre[bend], top[bend] + NODE_H)]
        points.append((centre[b], top[b]))
        lines[(a, b)] = tuple(points)
    layers = max(rows, default=0) + 1
    return GraphLayout(boxes, lines, 2 * PAD + widest,
                       2 * PAD + layers * NODE_H + (layers - 1) * GAP_Y)


def dependency_graph(title: str, nodes: Sequence[Node], edges: Sequence[tuple[str, str]]
                     ) -> str:
    """Services as boxes (agreed ones outlined in blue, internal ones grey), an arrow from each
    service to each service it depends on."""
    layout = graph_layout(nodes, edges)
    pos = layout.boxes
    frame = Frame(math.ceil(layout.width), math.ceil(layout.height), 0, 0, 0, 0)
    out = [open_svg(frame, title, "graph dependency-graph").replace(
        'role="img"', f'role="img" data-nodes="{len(nodes)}" data-edges="{len(edges)}"')]
    out.append('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
               'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
               f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{COLOURS["edge"]}"/></marker></defs>')
    for (a, b), points in sorted(layout.edges.items()):
        coords = " ".join(f"{n(x)},{n(y)}" for x, y in points)
        out.append(f'<polyline class="edge" fill="none" points="{coords}" '
                   f'stroke="{COLOURS["edge"]}" stroke-width="1.2" marker-end="url(#arrow)">'
                   f"<title>{esc(a)} depends on {esc(b)}</title></polyline>")
    for node in sorted(nodes, key=lambda x: x.id):
        x, y = pos[node.id]
        fill = COLOURS["node_internal"] if node.internal else COLOURS["node"]
        stroke = COLOURS["measured"] if node.covered else COLOURS["target"]
        dash = "" if node.covered else ' stroke-dasharray="4 3"'
        out.append(f'<g class="node" id="node-{esc(node.id)}"><title>{esc(node.label)} '
                   f"({esc(node.id)})</title>"
                   f'<rect x="{n(x)}" y="{n(y)}" width="{NODE_W}" height="{NODE_H}" rx="6" '
                   f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/>')
        out.append(text(x + NODE_W / 2, y + 18, _clip(node.label, 24), "middle",
                        ' font-weight="600"'))
        out.append(text(x + NODE_W / 2, y + 33, _clip(node.sublabel, 26), "middle",
                        f' fill="{COLOURS["target"]}"') + "</g>")
    out.append("</svg>")
    return "".join(out)
