"""Named evaluation suites: the grids one command runs to produce a report.

``default`` is what the README's quality table comes from: the held-out half of the real-document
questions, and the generated sets in hand-written natural wording on seeds no prompt was tuned on.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlm_desktop.eval.runner import Grid

# Seeds from here on are never used while working on the method; the generated tasks' tuning seeds are below.
HELD_OUT_SEED = 500


@dataclass(frozen=True)
class Suite:
    """A named list of grids, run one after the other into one results folder."""

    name: str
    description: str
    grids: tuple[Grid, ...]

    @property
    def size(self) -> int:
        return sum(grid.size for grid in self.grids)


def _default() -> Suite:
    from rlm_desktop.eval.tasks.realdocs import questions

    held_out = Grid(tasks=["realdocs-heldout"], lengths=[128 * 1024], methods=["rlm"],
                    seeds=list(range(len(questions(held_out=True)))))
    # Each generated task in its own wording and in hand-written paraphrases, on the same instances.
    generated = Grid(tasks=["dataroom", "dataroom-paraphrase", "multihop", "multihop-paraphrase"],
                     lengths=[32 * 1024], methods=["rlm"], seeds=list(range(HELD_OUT_SEED, HELD_OUT_SEED + 2)))
    return Suite("default", "The default models on held-out real-document questions and natural-wording "
                 "generated sets (held-out seeds)", (held_out, generated))


_SUITES = {"default": _default}


def get_suite(name: str) -> Suite:
    """The suite called ``name``; ValueError naming the known ones otherwise."""
    try:
        return _SUITES[name]()
    except KeyError:
        raise ValueError(f"Unknown suite {name!r}; known: {', '.join(sorted(_SUITES))}") from None
