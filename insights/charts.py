"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, readable by screen readers.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says what it shows, text
labels on every bar or point (values are never shown by colour alone), and a `<title>` on each mark
for a hover tooltip. The page always puts the same figures in a table next to the chart.
"""

import itertools
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

# Bootstrap's palette, readable on white and distinct for the common colour-vision deficiencies
# when paired with the text labels.
PALETTE = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#dc3545", "#20c997", "#ffc107", "#6c757d"]
_ids = itertools.count(1)


def _num(value):
    if value is None:
        return 0.0
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def _fmt(value, fmt):
    if value is None:
        return "–"
    if fmt:
        return fmt(value)
    number = _num(value)
    return f"{number:.0f}" if number == int(number) else f"{number:.1f}"


def _clip(text, size=18):
    text = str(text)
    return text if len(text) <= size else text[: size - 1] + "…"


def _open(width, height, title, desc, extra_class=""):
    n = next(_ids)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {extra_class}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="chart-t{n} chart-d{n}" style="max-width:{width}px;font-size:12px">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>'
    )


def _empty(title):
    return _open(400, 40, title, _("No data for this period."), "chart-empty") + (
        f'<text x="8" y="24" fill="#6c757d">{escape(_("No data for this period."))}</text></svg>'
    )


def bar_chart(data, *, title, value_format=None, color=PALETTE[0], label_width=150, width=520):
    """Horizontal bars for [(label, value), ...]; each bar carries its value as text."""
    data = [(label, value) for label, value in data]
    if not data:
        return mark_safe(_empty(title))
    row, top = 24, 6
    height = top * 2 + row * len(data)
    plot = width - label_width - 60
    peak = max((_num(v) for _, v in data), default=0) or 1
    desc = "; ".join(f"{label}: {_fmt(v, value_format)}" for label, v in data)
    parts = [_open(width, height, title, desc, "chart-bar")]
    for i, (label, value) in enumerate(data):
        y = top + i * row
        bar = max(_num(value) / peak * plot, 0)
        text = _fmt(value, value_format)
        parts.append(
            f'<g><title>{escape(label)}: {escape(text)}</title>'
            f'<text x="{label_width - 6}" y="{y + 16}" text-anchor="end" fill="#212529">{escape(_clip(label))}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{bar:.1f}" height="{row - 8}" rx="2" fill="{color}"/>'
            f'<text x="{label_width + bar + 4:.1f}" y="{y + 16}" fill="#212529">{escape(text)}</text></g>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _legend(names, y, x0=8):
    parts, x = [], x0
    for i, name in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="{y + 9}" fill="#212529">{escape(name)}</text>'
        )
        x += 24 + 7 * len(str(name)) + (6 * sum(1 for ch in str(name) if ord(ch) > 0x2E80))
    return "".join(parts)


def stacked_bar_chart(categories, series, *, title, label_width=150, width=520):
    """Horizontal stacked bars: `categories` are the rows, `series` [(name, [value per row])]."""
    categories = list(categories)
    if not categories or not series:
        return mark_safe(_empty(title))
    row, top = 24, 24
    height = top + 6 + row * len(categories)
    plot = width - label_width - 50
    totals = [sum(_num(values[i]) for _, values in series) for i in range(len(categories))]
    peak = max(totals) or 1
    desc = "; ".join(
        f"{cat}: " + ", ".join(f"{name} {_fmt(values[i], None)}" for name, values in series)
        for i, cat in enumerate(categories)
    )
    parts = [_open(width, height, title, desc, "chart-stacked"), _legend([n for n, _ in series], 4)]
    for i, cat in enumerate(categories):
        y = top + i * row
        x = float(label_width)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 16}" text-anchor="end" fill="#212529">{escape(_clip(cat))}</text>'
        )
        for s, (name, values) in enumerate(series):
            w = _num(values[i]) / peak * plot
            if w <= 0:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(cat)} · {escape(name)}: '
                f"{escape(_fmt(values[i], None))}</title></rect>"
            )
            if w >= 18:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="#fff">'
                    f"{escape(_fmt(values[i], None))}</text>"
                )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 16}" fill="#212529">{escape(_fmt(totals[i], None))}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_chart(labels, series, *, title, value_format=None, width=560, height=220):
    """Lines over `labels` (e.g. days); `series` [(name, [value or None per label])]."""
    labels = list(labels)
    if not labels or not series:
        return mark_safe(_empty(title))
    left, right, top, bottom = 44, 12, 24, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [_num(v) for _, vs in series for v in vs if v is not None]
    peak = max(values, default=0) or 1
    step = plot_w / max(len(labels) - 1, 1)
    desc = "; ".join(
        f"{name}: " + ", ".join(f"{labels[i]} {_fmt(v, value_format)}" for i, v in enumerate(vs))
        for name, vs in series
    )
    parts = [_open(width, height, title, desc, "chart-line"), _legend([n for n, _ in series], 4, left)]
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dee2e6"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#6c757d">'
            f"{escape(_fmt(peak * k / 4, value_format))}</text>"
        )
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{height - 8}" text-anchor="middle" fill="#6c757d">'
                f"{escape(_clip(label, 10))}</text>"
            )
    for s, (name, vs) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        points = [
            (left + i * step, top + plot_h - _num(v) / peak * plot_h, v) for i, v in enumerate(vs) if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _v in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for (x, y, v), i in zip(points, [i for i, v in enumerate(vs) if v is not None], strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(name)} · '
                f"{escape(labels[i])}: {escape(_fmt(v, value_format))}</title></circle>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))
