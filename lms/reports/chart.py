"""The cumulative trend as an SVG bar chart, drawn on the server (no script, no library):
one bar per month for the running total, a line for the target when it is in view. The
template gives it a text alternative and the same numbers as a table."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 36


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    month: str
    value: int
    label_shown: bool


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    baseline: float
    left: int
    right: int
    target_y: float | None


def _nice_step(maximum: int) -> int:
    raw = max(maximum, 1) / 4
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def cumulative_chart(points: list[tuple[str, int]], target: int | None = None) -> Chart:
    """``points``: (YYYY-MM, running total) in order."""
    top_value = max([value for _month, value in points] + [1])
    if target and target <= top_value * 1.5:
        top_value = max(top_value, target)
    step = _nice_step(top_value)
    scale_max = step * -(-top_value // step)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / max(len(points), 1)
    every = max(1, -(-len(points) // 12))  # at most about twelve month labels
    bars = []
    for index, (month, value) in enumerate(points):
        height = plot_height * value / scale_max
        bars.append(
            Bar(
                x=LEFT + index * slot + slot * 0.15,
                y=baseline - height,
                width=slot * 0.7,
                height=height,
                month=month,
                value=value,
                label_shown=index % every == 0,
            )
        )
    ticks = [Tick(baseline - plot_height * value / scale_max, value) for value in range(0, scale_max + 1, step)]
    target_y = baseline - plot_height * target / scale_max if target and target <= scale_max else None
    return Chart(WIDTH, HEIGHT, bars, ticks, baseline, LEFT, WIDTH - RIGHT, target_y)
