"""Bar charts drawn as SVG on the server: no chart library, no script, no inline
style (colours come from CSS classes, which the CSP allows)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 220
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT = 16, 48, 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    tone: str = ""
    link: str = ""  # the tenant list filtered to what the bar counts


@dataclass(frozen=True)
class DrawnBar:
    label: str
    value: int
    tone: str
    link: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[DrawnBar]
    baseline: float
    label_every: int


def bar_chart(bars: list[Bar]) -> Chart:
    """Geometry of a bar chart scaled to its largest bar; every n-th label shown
    when there are too many to read."""
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = (WIDTH - MARGIN_LEFT * 2) / max(len(bars), 1)
    top = max((bar.value for bar in bars), default=0) or 1
    drawn = []
    for index, bar in enumerate(bars):
        height = plot_height * bar.value / top
        x = MARGIN_LEFT + index * slot
        y = MARGIN_TOP + plot_height - height
        drawn.append(
            DrawnBar(
                label=bar.label,
                value=bar.value,
                tone=bar.tone,
                link=bar.link,
                x=round(x + slot * 0.1, 1),
                y=round(y, 1),
                width=round(slot * 0.8, 1),
                height=round(height, 1),
                label_x=round(x + slot / 2, 1),
                label_y=HEIGHT - MARGIN_BOTTOM + 16,
                value_y=round(max(y - 4, 12), 1),
            )
        )
    return Chart(WIDTH, HEIGHT, drawn, MARGIN_TOP + plot_height, 1 if len(bars) <= 8 else 4)
