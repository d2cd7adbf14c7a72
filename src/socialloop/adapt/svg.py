"""Small inline SVG charts rendered in Python (line and horizontal bar charts), so reports work
offline with no JavaScript. Every piece of text is escaped; numbers are formatted here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _fmt(v: float) -> str:
    if abs(v) >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:.2f}"


def line_chart(
    series: Mapping[str, Sequence[float]],
    labels: Sequence[str],
    *,
    title: str = "",
    width: int = 640,
    height: int = 200,
) -> str:
    """One polyline per series over shared x ``labels``, with a legend; an empty chart says so."""
    pad_l, pad_r, pad_t, pad_b = 48, 12, 24, 36
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    n = len(labels)
    top = max((max(v) for v in series.values() if v), default=0.0)
    top = top if top > 0 else 1.0
    parts = [
        f'<svg role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - pad_r}" y2="{pad_t + plot_h}" '
        'stroke="#9ca3af"/>',
        f'<text x="{pad_l - 6}" y="{pad_t + 4}" text-anchor="end" font-size="11">'
        f"{escape(_fmt(top))}</text>",
        f'<text x="{pad_l - 6}" y="{pad_t + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    if n == 0:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="12">'
            "no data</text></svg>"
        )
        return "".join(parts)

    def x(i: int) -> float:
        return pad_l + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return pad_t + plot_h - plot_h * v / top

    for i in sorted({0, n // 2, n - 1}):
        parts.append(
            f'<text x="{_num(x(i))}" y="{height - pad_b + 16}" text-anchor="middle" '
            f'font-size="11">{escape(labels[i])}</text>'
        )
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in enumerate(values[:n]))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        if n <= 40:  # few points (one day alone draws no line): mark each one
            parts.extend(
                f'<circle cx="{_num(x(i))}" cy="{_num(y(v))}" r="3" fill="{colour}">'
                f"<title>{escape(name)} {escape(labels[i])}: {_fmt(v)}</title></circle>"
                for i, v in enumerate(values[:n])
            )
        lx = pad_l + 8 + 120 * k
        parts.append(
            f'<rect x="{lx}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="15" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str = "",
    width: int = 640,
    bar_height: int = 18,
    percent: bool = False,
    colour: str = PALETTE[0],
) -> str:
    """Horizontal bars, one per (label, value), values written at the bar's end."""
    label_w, value_w, gap = 220, 64, 6
    plot_w = width - label_w - value_w
    height = max(1, len(items)) * (bar_height + gap) + gap
    top = max((v for _l, v in items), default=0.0) or 1.0
    parts = [
        f'<svg role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y0 = gap + i * (bar_height + gap)
        w = max(0.0, plot_w * value / top)
        shown = f"{value:.1%}" if percent else _fmt(value)
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y0 + bar_height - 5}" text-anchor="end" '
            f'font-size="12">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y0}" width="{_num(w)}" height="{bar_height}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{label_w + _num_f(w) + 4}" y="{y0 + bar_height - 5}" font-size="12">'
            f"{escape(shown)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _num_f(x: float) -> float:
    return round(x, 1)
