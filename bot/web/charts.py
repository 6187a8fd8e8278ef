"""Bar charts drawn on the server as inline SVG: no script, no build step, no CDN."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 560


def bar_chart(items: Sequence[tuple[str, int]], *, unit: str = "", title: str = "") -> Markup:
    """Horizontal bars, one per (label, value), longest value full width.

    Each label is HTML text on its own line above its bar, in full: it wraps on a phone
    and never shrinks with the drawing (an option's words are what the secretary reads).
    The bar is a small SVG stretched to its row, so no inline style is needed (the
    console's content policy allows none)."""
    top = max((value for _, value in items), default=0) or 1
    parts = [f'<div class="hbars" role="img" aria-label="{escape(title)}">']
    for label, value in items:
        length = round(100 * value / top)
        parts.append(
            f'<div class="hbar"><span class="label">{escape(label)}</span>'
            '<svg class="track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect width="{max(length, 0.5)}" height="10" class="bar">'
            f"<title>{escape(label)}：{value}{escape(unit)}</title></rect></svg>"
            f'<span class="value">{value}{escape(unit)}</span></div>'
        )
    parts.append("</div>")
    return Markup("".join(parts))


def column_chart(
    items: Sequence[tuple[str, int, int]], *, legend: tuple[str, str], title: str = ""
) -> Markup:
    """Paired columns per (label, first, second), e.g. opinions and suggestions per month."""
    height, base, width = 220, 190, WIDTH
    top = max((max(a, b) for _, a, b in items), default=0) or 1
    slot = (width - 20) / max(len(items), 1)
    column = min(18.0, slot / 2.6)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">',
        f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" class="axis"/>',
    ]
    for index, (label, first, second) in enumerate(items):
        x = 10 + index * slot + (slot - 2 * column) / 2
        for offset, value, css in ((0.0, first, "bar"), (column, second, "bar alt")):
            length = round(160 * value / top)
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{base - length}" width="{column:.1f}" '
                f'height="{max(length, 0)}" class="{css}"><title>{escape(label)} '
                f"{escape(legend[0] if offset == 0 else legend[1])}：{value}</title></rect>"
            )
        parts.append(
            f'<text x="{x + column:.1f}" y="{base + 18}" text-anchor="middle" class="label">'
            f"{escape(label)}</text>"
        )
    parts.append(
        f'<rect x="{width - 190}" y="6" width="12" height="12" class="bar"/>'
        f'<text x="{width - 172}" y="17" class="label">{escape(legend[0])}</text>'
        f'<rect x="{width - 100}" y="6" width="12" height="12" class="bar alt"/>'
        f'<text x="{width - 82}" y="17" class="label">{escape(legend[1])}</text></svg>'
    )
    return Markup("".join(parts))
