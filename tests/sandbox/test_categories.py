"""Recognising a question that counts or ranks items by categories the documents never write."""

from __future__ import annotations

from rlm_desktop.sandbox.categories import listing_of, quoted_categories, unwritten_categories

TICKETS = ["#5521 2023-04-02 I was charged twice for March",
           "#5522 2023-04-02 The export button crashes the app",
           "#5523 2023-04-03 Please add a dark mode"]
PREAMBLE = "Each ticket is about one of 'billing', 'bug report', 'feature request'; the category is not written. "


def test_quoted_names_are_taken_in_order_once_each_whatever_the_quotes() -> None:
    question = "Is 'Billing' more common than \u201cbug report\u201d or \"billing\" or \u2018feature request\u2019?"
    assert quoted_categories(question) == ["Billing", "bug report", "feature request"]


def test_a_count_or_ranking_by_unwritten_categories_is_recognised() -> None:
    for asked in ("Which category has the most tickets?", "Which category has the fewest tickets?", "How many tickets belong to the category 'billing'?",
                  "Is the category 'billing' more common than 'bug report'?"):
        assert unwritten_categories(PREAMBLE + asked, TICKETS) == ["billing", "bug report", "feature request"]


def test_other_questions_are_not() -> None:
    assert unwritten_categories("Which ticket mentions 'dark mode'?", TICKETS) is None  # one name, no ranking
    assert unwritten_categories(PREAMBLE + "Who wrote ticket #5522?", TICKETS) is None  # no count or ranking
    assert unwritten_categories("How many tickets mention 'March' or 'April'?", TICKETS) is None  # no categories


def test_a_category_the_documents_write_is_searched_for_not_classified() -> None:
    written = TICKETS + [f"#{5530 + i} category: billing, refund asked" for i in range(3)]
    assert unwritten_categories(PREAMBLE + "Which category has the most tickets?", written) is None
    # a name in a few of the items' own words does not make the category written
    log = "\n".join(TICKETS * 8 + ["#5600 2023-05-01 Another billing question"] * 3)
    assert unwritten_categories(PREAMBLE + "Which category has the most tickets?", [log]) is not None
    # named once in a header, as a list of the categories, it is still unwritten
    header = ["Categories used: billing, bug report, feature request."] + TICKETS
    assert unwritten_categories(PREAMBLE + "Which category has the most tickets?", header) is not None


def test_lines_that_split_alike_are_classified_by_their_longest_field() -> None:
    lines = [f"Date: Mar {i:02d}, 2023 || User: {10000 + i} || Instance: {TICKETS[i % 3][17:]}" for i in range(1, 25)]
    listing = listing_of(["A header line of prose, not split like the rest."] + lines + [""])
    assert listing is not None and (listing.separator, listing.separators, listing.text_field) == (" || ", 2, 2)
    assert listing.keeps(lines[0]) and not listing.keeps("A header line of prose.")
    assert listing.lead == "Instance: " and listing.text(lines[2]) == "I was charged twice for March"
    assert listing_of(lines[:5]) is None  # too few lines to call a listing
    assert listing_of(["The rent is due. It is paid quarterly."] * 30) is None  # prose


def test_an_apostrophe_is_not_a_quote_that_opens_a_category_name():
    question = ("The category is inferred from the question's wording. Is the category 'human being' more common "
                "than the category 'abbreviation'?")
    assert quoted_categories(question) == ["human being", "abbreviation"]
    assert quoted_categories("Count \"urgent\" and 'low' tickets; don't count the Smiths' ones.") == ["urgent", "low"]
