"""Lay out an hourly bar chart, drawn as SVG by a template (no JS library)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    hour: str


@dataclass(frozen=True)
class Series:
    name: str
    css_class: str
    total: int
    bars: list[Bar]


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    """An SVG bar chart: size, bars per series, axis labels and the top value."""

    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    plot_right: int
    top_value: int
    series: list[Series]
    x_ticks: list[Tick]


def _hour_label(start: datetime, slot: int) -> str:
    return timezone.localtime(start + timedelta(hours=slot)).strftime("%H:%M")


def hourly_chart(*, start: datetime, series: list[tuple[str, str, list[int]]]) -> Chart:
    """Lay out grouped bars, one group per hour from ``start``.

    ``series`` holds (name, CSS class, counts per hour); every series has one
    count per hour.
    """
    hours = len(series[0][2]) if series else 0
    top_value = max([1, *(n for _n, _c, counts in series for n in counts)])
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(hours, 1)
    bar_width = slot * 0.8 / max(len(series), 1)
    laid_out = []
    for index, (name, css_class, counts) in enumerate(series):
        bars = []
        for hour, value in enumerate(counts):
            height = plot_height * value / top_value
            bars.append(
                Bar(
                    x=round(LEFT + hour * slot + slot * 0.1 + index * bar_width, 2),
                    y=round(TOP + plot_height - height, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    value=value,
                    hour=_hour_label(start, hour),
                )
            )
        laid_out.append(Series(name, css_class, sum(counts), bars))
    ticks = [
        Tick(round(LEFT + hour * slot + slot / 2, 2), _hour_label(start, hour))
        for hour in range(0, hours, 3)
    ]
    return Chart(
        WIDTH,
        HEIGHT,
        TOP,
        TOP + plot_height,
        LEFT,
        WIDTH - RIGHT,
        top_value,
        laid_out,
        ticks,
    )
