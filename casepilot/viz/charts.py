"""A grouped bar chart as SVG, for numbers a notebook compares — e.g. per-query nDCG@10 of
casepilot's retrieval modes against a peer library — without a plotting dependency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["BarChart", "bar_chart"]

_COLOURS = ("#1f4fb0", "#e08a00", "#1f6b34", "#9b1c1c", "#6b3fa0")


@dataclass(frozen=True, slots=True)
class BarChart:
    """Values per category for each series (same length as ``categories``), drawn on one axis from 0 to ``top``."""

    title: str
    categories: tuple[str, ...]
    series: Mapping[str, tuple[float, ...]]
    top: float

    def means(self) -> dict[str, float]:
        return {name: sum(values) / len(values) if values else 0.0 for name, values in self.series.items()}

    def _repr_svg_(self) -> str:
        bar, gap, left, top, height = 7, 10, 40, 34, 180
        group = bar * len(self.series) + gap
        width = left + group * len(self.categories) + 10
        scale = height / self.top if self.top else 0
        parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{top + height + 70}' role='img' "
                 f"aria-label='{escape(self.title)}'><title>{escape(self.title)}</title>"
                 "<style>text{font:11px system-ui,sans-serif}</style>"
                 f"<text x='{left}' y='14' font-weight='600'>{escape(self.title)}</text>"]
        for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
            y = top + height - tick * self.top * scale
            parts.append(f"<line x1='{left}' x2='{width - 10}' y1='{y}' y2='{y}' stroke='#e3e6eb'/>"
                         f"<text x='{left - 4}' y='{y + 4}' text-anchor='end'>{tick * self.top:g}</text>")
        for i, category in enumerate(self.categories):
            x0 = left + i * group + gap / 2
            for j, (name, values) in enumerate(self.series.items()):
                value = values[i]
                h = value * scale
                parts.append(f"<rect x='{x0 + j * bar}' y='{top + height - h}' width='{bar - 1}' height='{h}' "
                             f"fill='{_COLOURS[j % len(_COLOURS)]}'><title>{escape(name)} {escape(category)}: "
                             f"{value:.3f}</title></rect>")
            parts.append(f"<text x='{x0 + group / 2 - gap / 2}' y='{top + height + 14}' text-anchor='middle'>"
                         f"{escape(category)}</text>")
        for j, (name, mean) in enumerate(self.means().items()):
            y = top + height + 34 + 14 * (j // 2)
            x = left + (j % 2) * 260
            parts.append(f"<rect x='{x}' y='{y - 9}' width='10' height='10' fill='{_COLOURS[j % len(_COLOURS)]}'/>"
                         f"<text x='{x + 14}' y='{y}'>{escape(name)} (mean {mean:.3f})</text>")
        parts.append("</svg>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return f"<div style='overflow-x:auto'>{self._repr_svg_()}</div>"


def bar_chart(title: str, categories: Sequence[str], series: Mapping[str, Sequence[float]],
              top: float | None = None) -> BarChart:
    """Group the values of every series by category; ``top`` defaults to the largest value (at least 1)."""
    for name, values in series.items():
        if len(values) != len(categories):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(categories)} categories")
    largest = max((v for values in series.values() for v in values), default=1.0)
    return BarChart(title, tuple(categories), {k: tuple(v) for k, v in series.items()}, top or max(1.0, largest))
