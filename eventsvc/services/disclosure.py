"""The minimum group size: when an anonymous total may be shown without singling anyone out.

One rule for every anonymous figure of the totals (the feedback answers, services/feedback.py;
the accessibility needs ticked, services/stats.py): a figure resting on fewer than MIN_GROUP
answers or registrations is hidden, and in a column of groups, so is the next smallest while
the hidden ones together rest on fewer than MIN_GROUP, so that no hidden figure can be worked
out from the total minus the shown ones (secondary suppression). Zero is shown: it names no one.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_GROUP = 5  # fewer than this: the figure is hidden


@dataclass(frozen=True)
class Figure:
    """A share, a mean or a count and how many it rests on; `value` None when hidden."""

    n: int
    value: float | None
    hidden: bool = False


def suppress(figures: list[Figure], total: Figure) -> list[Figure]:
    """Hide each figure resting on fewer than MIN_GROUP; if the hidden ones together rest on
    fewer (so the total minus the shown ones would give them away), hide the next smallest
    too, until they rest on MIN_GROUP or more, or all are hidden."""
    hidden = {i for i, f in enumerate(figures) if f.n < MIN_GROUP}
    shown = sorted((i for i in range(len(figures)) if i not in hidden), key=lambda i: figures[i].n)

    def hidden_n() -> int:
        return sum(figures[i].n for i in hidden)

    while shown and hidden and 0 < hidden_n() < MIN_GROUP and total.n >= MIN_GROUP:
        hidden.add(shown.pop(0))
    return [Figure(f.n, None, True) if i in hidden and f.n else f for i, f in enumerate(figures)]


def hide_small(figure: Figure) -> Figure:
    """One figure on its own (a headline): hidden if it rests on 1 to MIN_GROUP - 1."""
    return Figure(figure.n, None, True) if 0 < figure.n < MIN_GROUP else figure
