"""Bar charts drawn on the server as SVG geometry, so pages need no chart script and keep to
the strict content security policy (SVG attributes, not inline styles)."""

import dataclasses

LABEL_WIDTH = 190
BAR_SPACE = 300
VALUE_SPACE = 50
ROW_HEIGHT = 24
BAR_HEIGHT = 16
MAX_LABEL = 26


@dataclasses.dataclass
class Bar:
    label: str
    value: int
    y: int
    width: int
    text_y: int
    value_x: int


def bar_chart(items: list[tuple[str, int]]) -> dict:
    """Horizontal bars for (label, value) pairs, in the order given."""
    top = max((value for _label, value in items), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        width = max(1, round(value / top * BAR_SPACE)) if value else 0
        short = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
        y = i * ROW_HEIGHT + 4
        bars.append(
            Bar(
                label=short,
                value=value,
                y=y,
                width=width,
                text_y=y + BAR_HEIGHT - 3,
                value_x=LABEL_WIDTH + width + 6,
            )
        )
    return {
        "bars": bars,
        "width": LABEL_WIDTH + BAR_SPACE + VALUE_SPACE,
        "height": len(items) * ROW_HEIGHT + 8,
        "bar_x": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": BAR_HEIGHT,
    }
