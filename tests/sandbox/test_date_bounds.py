"""A question's date bound over dated items, and the REPL code that applies it."""

from __future__ import annotations

import datetime as dt

from rlm_desktop.sandbox import SandboxSession
from rlm_desktop.sandbox.date_bounds import date_bound, filter_code

LINES = ["Date: Jan 05, 2023 || User: 1 || Instance: What is NATO?",
         "Date: Mar 10, 2023 || User: 2 || Instance: Who wrote Hamlet?",
         "Date: Dec 31, 2023 || User: 3 || Instance: Where is Oslo?"]


def test_the_bound_and_the_items_date_format_are_found():
    bound = date_bound("How many questions dated after Feb 08, 2023 belong to the category 'location'?", LINES)
    assert bound is not None and (bound.op, bound.date, bound.fmt) == ("after", dt.date(2023, 2, 8), "%b %d, %Y")
    before = date_bound("How many tickets opened before 2023-06-01 are 'urgent'?", ["2023-05-01 | x", "2023-07-01 | y"])
    assert before is not None and (before.op, before.date, before.fmt) == ("before", dt.date(2023, 6, 1), "%Y-%m-%d")
    assert date_bound("How many questions belong to 'location'?", LINES) is None  # no bound
    assert date_bound("How many dated after Feb 08, 2023?", ["no date here", "nor here"]) is None  # items undated


def test_the_filter_code_keeps_the_items_within_the_bound_in_the_repl():
    bound = date_bound("How many questions dated after Feb 08, 2023 are 'location'?", LINES)
    with SandboxSession("\n".join(LINES)) as session:
        result = session.run(f"items = context.splitlines()\n{filter_code(bound)}\nprint(len(items), items[0][:18])")
    assert result.error is None, result.error
    assert result.output.strip() == "2 Date: Mar 10, 2023"
