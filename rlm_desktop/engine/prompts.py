"""What the root model is told: the system prompt, the context's shape, cell feedback.

Written for local coder models (Qwen2.5/Qwen3-Coder, Llama, Gemma): plain
instructions, short worked examples of the strategies the RLM paper saw work
(keyword search, uniform chunking with batched sub-calls, keeping sub-call results
in variables, verifying before answering). The root never sees the context itself,
only its shape.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rlm_desktop.backends.base import Message
from rlm_desktop.documents import Context, Document
from rlm_desktop.engine.claim_checks import is_check_question
from rlm_desktop.engine.named_documents import other_sources_lines, reading_lines
from rlm_desktop.sandbox.categories import items_are_lines, listing_of, unwritten_categories
from rlm_desktop.sandbox.date_bounds import date_bound, filter_code
from rlm_desktop.sandbox.links import chain_start
from rlm_desktop.sandbox.parties import PartyRequest, party_request
from rlm_desktop.sandbox.relevance import question_only
from rlm_desktop.sandbox.shares import numeric_columns
from rlm_desktop.sandbox.totals import TotalRequest, about, phrase_amount, total_request
from rlm_desktop.tables import is_table_name, sheet_count, table_rows

_SYSTEM_TEMPLATE = '''You answer questions about documents that are far too long to read at once. They are
loaded in a Python REPL as the variable `context`. You never see them: you write Python code, I
run it and show you what it printed. Variables you define stay available in later code.

Every reply has one of two forms. Either one short sentence saying what you do next, then one
code block:
```repl
hits = grep(r"purchase price")
print(len(hits))
```
or, once printed output shows the answer, one line:
FINAL(the answer, naming the document and page it comes from)

In the REPL:
- `context`: a list of documents. Each is a str with `.name`, `.pages` (list of page texts) and
  `.page_at(offset)`.
- `grep(pattern, context_chars=80)`: regex search in all documents, case-insensitive. Returns a
  list of hits, those sharing most words with the question first; each hit has `.document`,
  `.page`, `.snippet` (the match with text around it).
- `search(query, k=10)`: the k passages that best match some keywords; hits like grep.
- `llm_query(prompt)`: ask a helper model a question about a text you put in the prompt (it reads
  about {sub_chars} characters at a time and sees nothing else).
- `llm_query_batched(prompts)`: a list of prompts answered together; answers in the same order.
- `ask_pages(question, pages)`: asks the helper model `question` about each page of `pages` (a
  list of hits or documents; pass all of `context` only when nothing narrower will do) and
  returns the pages where it found an answer, as hits whose `.snippet` is the helper's answer.
- `ask(question, about)`: the helper model answers a short question (who, which, when, how much)
  from the sentences of all documents that mention `about` (a name or phrase) and returns the
  answer as a str ("" when they do not say). A question that goes through a chain of facts ("the
  firm that audits Nordic Mills") is followed link by link: pass the whole question and the name
  the chain starts from.
- `classify(texts, labels, examples=[])`: the helper model puts each text of a list in one of
  `labels` (a list of category names) and returns one label per text, in order. Give it a few
  `(text, label)` examples, one per label: it is far more accurate with them (given none, it has
  two per label written first, and prints them).
- `cite(hit)`: record the hit your answer rests on.
- `SHOW_VARS()`: list your variables. `FINAL_VAR(name)`: answer with the variable called name.

Rules:
- Search for the words of what is asked (price, escrow, terminate, signed), not for a name that
  every document mentions. A question about two things needs a search for each.
- Print little: counts, names, hit snippets, slices of at most 1,000 characters. Never print a
  whole document.
- Never copy printed output into your code and never write what you expect the output to be.
- To count or list things across documents, collect them in code (a list, a set of
  `hit.document`) and print the result, rather than counting by eye. To count items by a
  category that is not written in them, classify() the items and count the labels with
  collections.Counter.
- Answer only from text you have printed, and cite it. Answer in the language of the question.
- These modules are imported already, and no others can be: re, json, math, statistics,
  collections, itertools, functools, string, textwrap, datetime, csv.'''

# total_of() and party_of() are not listed above: the first message of a question they serve gives the one
# call to run (total_program, party_program). Listed here as two more lines, they changed the 1.5B's first
# search on the sample room's change-of-control question, which then lost its answer (session 13).

# Worked exchanges, given as real conversation turns before the user's question: small models
# copy the form of what they have just seen far better than they follow a description of it.
# The first compares two facts (each searched for on its own); the second reads a passage. Both
# search for the words of what is asked, not for a name that every document mentions.
_EXAMPLE_SHAPE = ("`context` is a list of 12 documents, 41,370 characters in total.\n"
                  "  context[0]: 'board_minutes_march.md' (2,911 chars)\n"
                  "  ... and 11 more (print [d.name for d in context] to see all)")
_COMPARE_QUESTION = "Is the deposit under the Oslo office lease larger than the annual service charge?"
_COMPARE_TURN_1 = """Search for each of the two amounts on its own.
```repl
for pattern in [r"deposit", r"service charge"]:
    hits = grep(pattern, context_chars=120)
    print(pattern, len(hits))
    for h in hits[:5]:
        print("  ", h.document, h.page, h.snippet)
```"""
_COMPARE_OUTPUT_1 = """deposit 1
   lease_oslo_office.md 2 the Tenant shall pay a deposit of NOK 450,000 on signing, to be held by the Landlord until
service charge 2
   lease_oslo_office.md 4 The Tenant shall pay an annual service charge of NOK 380,000, reviewed each January
   board_minutes_march.md 1 the board noted that the service charge for the Oslo office had been agreed"""
_COMPARE_FINAL = ("FINAL(Yes. The deposit, NOK 450,000 (lease_oslo_office.md, page 2), is larger than the annual "
                  "service charge, NOK 380,000 (lease_oslo_office.md, page 4).)")

_EXAMPLE_QUESTION = "Who signed the lease for the Oslo office?"
_EXAMPLE_TURN_1 = """Find the signatures; the office's name is in many documents, the word "signed" in few.
```repl
hits = grep(r"signed", context_chars=120)
print(len(hits))
for h in hits[:8]:
    print(h.document, h.page, h.snippet)
```"""
_EXAMPLE_OUTPUT_1 = """3
lease_oslo_office.md 3  and the tenant. Signed in Oslo for the tenant by Ingrid Saether, Chief Financial Officer, and for the
supply_agreement_nordic.md 6 Signed for the Supplier by Lars Berg, Director, and for the Customer by
board_minutes_march.md 2 the board noted that the Oslo office lease had been signed and renewed"""
_EXAMPLE_TURN_2 = """Read the signature passage on page 3 of the lease.
```repl
doc = [d for d in context if d.name == "lease_oslo_office.md"][0]
page = doc.pages[2]
i = page.find("Signed")
print(page[max(0, i - 200):i + 300])
```"""
_EXAMPLE_OUTPUT_2 = """the parties' obligations survive termination.

14. Signature. Signed in Oslo for the tenant by Ingrid Saether, Chief Financial Officer, and for the landlord by Per Aas, Managing Director."""
_EXAMPLE_FINAL = ("FINAL(Ingrid Saether (CFO) signed for the tenant and Per Aas (Managing Director) for the landlord "
                  "(lease_oslo_office.md, page 3).)")

_CHAIN_QUESTION = "Who is the managing partner of the firm that audits Nordic Mills?"
_CHAIN_TURN_1 = """The answer goes through a chain of facts that starts at Nordic Mills; ask() follows it link by link.
```repl
partner = ask("Who is the managing partner of the firm that audits Nordic Mills?", "Nordic Mills")
print(partner)
```"""
_CHAIN_OUTPUT_1 = """[ask: Which firm audits Nordic Mills? Holm & Co (annual_report.txt, page 4)]
[ask: Who is the managing partner of Holm & Co? Eva Lind (holm_profile.txt, page 1)]
Eva Lind"""
_CHAIN_FINAL = "FINAL(Eva Lind (holm_profile.txt, page 1).)"

_TALLY_SHAPE = "`context` is a single str of 38,204 characters."
_TALLY_QUESTION = ("Each ticket in the export is about one of 'billing', 'bug report', 'feature request'; the category "
                   "is not written in it. Which category has the most tickets? Give its name.")
_TALLY_CATEGORIES = ("billing", "bug report", "feature request")
_TALLY_TURN_1 = """Put every ticket in a category with classify() and count the labels.
```repl
items = [line for line in context.splitlines() if line.strip()]
labels = classify(items, ['billing', 'bug report', 'feature request'])
print(len(items), collections.Counter(labels).most_common())
```"""
_TALLY_OUTPUT_1 = """[classify: no examples were given, so these were written: 'I was charged twice for March' -> billing; 'My refund has not arrived' -> billing; 'The export button crashes the app' -> bug report; 'Search returns nothing since the update' -> bug report; 'Please add a dark mode' -> feature request; 'Could invoices be sent as PDF?' -> feature request]
412 [('bug report', 190), ('billing', 151), ('feature request', 71)]"""
_TALLY_FINAL = "FINAL(bug report)"

_LIST_LIMIT = 20
_CHARS_PER_TOKEN = 3  # conservative for English prose and legal text


def system_prompt(sub_context_tokens: int | None = None, sub_max_tokens: int = 512) -> str:
    """The root's system prompt; chunk sizes in the examples fit the sub-model's window."""
    return _SYSTEM_TEMPLATE.replace("{sub_chars}", f"{sub_prompt_chars(sub_context_tokens, sub_max_tokens):,}")


def sub_prompt_chars(sub_context_tokens: int | None = None, sub_max_tokens: int = 512) -> int:
    """How many characters of text one sub-call prompt may carry (rounded down to thousands)."""
    tokens = sub_context_tokens or 8192
    usable = max(1000, (tokens - sub_max_tokens - 200) * _CHARS_PER_TOKEN)
    return usable // 1000 * 1000


def describe_context(context: Context) -> str:
    """The context's shape: type, total characters, documents with names and lengths."""
    if isinstance(context, str):
        return f"`context` is a single str of {len(context):,} characters."
    items = list(context)
    total = sum(len(_text(item)) for item in items)
    kind = "documents" if items and isinstance(items[0], Document) else "strings"
    lines = [f"`context` is a list of {len(items)} {kind}, {total:,} characters in total."]
    for i, item in enumerate(items[:_LIST_LIMIT]):
        lines.append(f"  context[{i}]: {_name(item, i)} ({len(_text(item)):,} chars{_layout(item, i)})")
    if len(items) > _LIST_LIMIT:
        lines.append(f"  ... and {len(items) - _LIST_LIMIT} more (print [d.name for d in context] to see all)")
    return "\n".join(lines)


def _text(item: Document | str) -> str:
    return item.text if isinstance(item, Document) else item


def _name(item: Document | str, index: int) -> str:
    return repr(item.name) if isinstance(item, Document) else f"string {index + 1}"


def _layout(item: Document | str, index: int) -> str:
    """A document's page count, or how a table document is stored and read. (Listing a table's columns
    here changed the 1.5B's first search on the escrow sample question, from "escrow|kestrel minimum
    annual purchase" to "escrow|kestrel", and its answer from right to wrong.)"""
    if isinstance(item, Document) and is_table_name(item.name):
        return _table_layout(sheet_count(item.text), index)
    if isinstance(item, Document) and item.page_count > 1:
        return f", {item.page_count} pages"
    return ""


def _table_layout(sheets: int, index: int) -> str:
    """", a table: one row per line, cells separated by ' | '; table(context[5]) gives its rows as dicts"."""
    sheets_note = f" of {sheets} sheets" if sheets > 1 else ""
    return (f", a table{sheets_note}: one row per line, cells separated by ' | '; table(context[{index}]) gives its rows "
            "as dicts")


def first_messages(question: str, context: Context, system: str, *, example: bool = True) -> list[Message]:
    """System prompt, worked examples as real turns, then the context's shape and the question.

    (Tried in session 7 and not kept, see docs/eval/README.md: a worked example of table(), which
    placed last sent the purchase-price question to the revenue table and placed first was not
    copied; one of classify() over a text of many short lines, which the 1.5B peeked like and then
    answered a category it had not computed, and with that answer refused as not computed, counted the
    category names in the lines instead of classifying them.)"""
    messages: list[Message] = [{"role": "system", "content": system}]
    categories = unwritten_categories(question, (_text(item) for item in _items(context)))
    if example:
        messages += [
            {"role": "user", "content": question_message(_COMPARE_QUESTION, _EXAMPLE_SHAPE)},
            {"role": "assistant", "content": _COMPARE_TURN_1},
            {"role": "user", "content": next_user_message(_COMPARE_QUESTION, [output_block(_COMPARE_OUTPUT_1)], 10)},
            {"role": "assistant", "content": _COMPARE_FINAL},
            {"role": "user", "content": question_message(_EXAMPLE_QUESTION, _EXAMPLE_SHAPE)},
            {"role": "assistant", "content": _EXAMPLE_TURN_1},
            {"role": "user", "content": next_user_message(_EXAMPLE_QUESTION, [output_block(_EXAMPLE_OUTPUT_1)], 10)},
            {"role": "assistant", "content": _EXAMPLE_TURN_2},
            {"role": "user", "content": next_user_message(_EXAMPLE_QUESTION, [output_block(_EXAMPLE_OUTPUT_2)], 9)},
            {"role": "assistant", "content": _EXAMPLE_FINAL},
        ]
        if categories:  # a count by unwritten categories also sees one worked through classify()
            messages += [
                {"role": "user", "content": question_message(_TALLY_QUESTION, _TALLY_SHAPE,
                                                             category_program(_TALLY_CATEGORIES, "tickets"))},
                {"role": "assistant", "content": _TALLY_TURN_1},
                {"role": "user", "content": next_user_message(_TALLY_QUESTION, [output_block(_TALLY_OUTPUT_1)], 10)},
                {"role": "assistant", "content": _TALLY_FINAL},
            ]
        elif chain_start(question) is not None:  # a nested question also sees a chain followed with ask()
            messages += [
                {"role": "user", "content": question_message(_CHAIN_QUESTION, _EXAMPLE_SHAPE)},
                {"role": "assistant", "content": _CHAIN_TURN_1},
                {"role": "user", "content": next_user_message(_CHAIN_QUESTION, [output_block(_CHAIN_OUTPUT_1)], 10)},
                {"role": "assistant", "content": _CHAIN_FINAL},
            ]
    program = category_program(categories, context, question) if categories else None
    messages.append({"role": "user", "content": question_message(question, describe_context(context), program,
                                                                 share_hint(question, context),
                                                                 check_program(question, context),
                                                                 None if program else total_program(question, context),
                                                                 None if program else party_program(question, context))})
    return messages


def party_program(question: str, context: Context) -> tuple[PartyRequest, str] | None:
    """For "Which counterparties <do what the documents write>?": (what it asks, the block that finds the documents
    that write it and prints the party each defines as that term)."""
    asked = party_request(question_only(question) or question, [_text(item) for item in _items(context)])
    if asked is None:
        return None
    program = ("```repl\n"
               f"names = party_of({asked.term!r}, where=r\"{asked.pattern}\")\n"
               "```")
    return asked, program


def total_program(question: str, context: Context) -> tuple[TotalRequest, int, str] | None:
    """For "the total X under all Y" over documents that are Y, most of which write an amount after X: (what the
    question asks to add, how many documents are Y, the block that picks them and adds with total_of()). One Y is
    enough: with none given, the 1.5B guessed the total of the one supply agreement seven turns running."""
    asked = total_request(question_only(question) or question)
    if asked is None:
        return None
    pattern = re.compile(re.escape(asked.what), re.IGNORECASE)
    chosen = [item for item in _items(context) if isinstance(item, Document) and about(item.name, item.text, asked.where)]
    if not chosen or 2 * sum(phrase_amount(item.text, pattern) is not None for item in chosen) < len(chosen):
        return None
    program = ("```repl\n"
               f"total = total_of(r{asked.what!r}, kind={asked.where.casefold()!r})\n"
               "```")
    return asked, len(chosen), program


def check_program(question: str, context: Context) -> tuple[str, str] | None:
    """For "does <a named document> state X correctly?": (the document's name, a block that prints what it says
    of the question's key words, then the same fact from another source: the share_of() call where the question
    asks for a share a table can give, else a search of the other documents)."""
    if not is_check_question(question):
        return None
    reads = reading_lines(question, context)
    if len(reads) != 1:
        return None
    document, read = reads[0]
    second = share_call_for(question, context) if share_hint(question, context) else None
    return document.name, f"```repl\n{read}\n{second or other_sources_lines(question, document)}\n```"


# "what share of", "the revenue share"; not "the share purchase agreement", "share capital", "the shares of"
_SHARE_WORDS = re.compile(r"\b(share|percentage|per ?cent|proportion|fraction) of\b|"
                          r"\b\w+ share\b(?! (purchase|capital|option|certificate|price|class|transfer|premium))",
                          re.IGNORECASE)


def share_hint(question: str, context: Context) -> str | None:
    """For a question about a share of a total over documents that include a table with a numeric column: the
    share_of() call that computes it (a 1.5B root reading figures into code by hand loses digits)."""
    if not _SHARE_WORDS.search(question_only(question) or question):
        return None
    for index, item, columns in _share_tables(context):
        column = "" if len(columns) == 1 else f", {columns[0]!r}"
        return (f"For a share of a total, `share_of(context[{index}], 'NAME'{column})` computes it from the "
                f"table {item.name!r}: the share of the column's total held by the rows that mention NAME (a "
                "word of the row's name, such as a company's), returned as a percentage, with the figures "
                "printed. Run it in a ```repl block; FINAL only what it printed.")
    return None


def _share_tables(context: Context) -> list[tuple[int, Document, list[str]]]:
    """(index, document, numeric columns) of the documents that are tables with a numeric column."""
    found = []
    for index, item in enumerate(_items(context)):
        if isinstance(item, Document) and is_table_name(item.name):
            columns = numeric_columns(table_rows(item.text))
            if columns:
                found.append((index, item, columns))
    return found


_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|per ?cent\b|percent\b)", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z\-]{2,}")


def share_call(answer: str, unseen: Sequence[str], context: Context) -> str | None:
    """The share_of() call that computes a percentage the answer gives but no output showed, for a name of the
    answer that a table's rows mention (``print(share_of(context[5], 'Kestrel'))``); None when there is none."""
    if not any(_PERCENT.match(answer, match.start()) for figure in unseen
               for match in re.finditer(re.escape(figure), answer)):
        return None
    return share_call_for(answer, context)


def share_call_for(text: str, context: Context) -> str | None:
    """The share_of() call for the first capitalised name of ``text`` that a table's rows mention, or None."""
    for index, item, columns in _share_tables(context):
        rows = table_rows(item.text)
        header = {str(key).casefold() for key in rows[0]} if rows else set()
        for word in dict.fromkeys(_CAPITALISED.findall(text)):
            if word.casefold() in header or word in ("The", "This", "That", "Yes", "No"):
                continue
            if any(word.casefold() in str(value).casefold() for row in rows for value in row.values()):
                column = "" if len(columns) == 1 else f", {columns[0]!r}"
                return f"print(share_of(context[{index}], {word!r}{column}))"
    return None


def given_call_note(call: str) -> str:
    """Told with the output of the line the first message gave, which the loop ran for a root that had not."""
    return (f"The line the question came with was never run. The loop ran `{call}` for you; its output is below. "
            "Answer from it.")


def share_call_note(call: str) -> str:
    """Told with the output of a share_of() call the loop ran for a percentage the answer could not show."""
    return (f"The share your answer gives was never computed. The loop ran `{call}` for you; its output is "
            "below. Answer from it.")


def _items(context: Context) -> list[Document | str]:
    return [context] if isinstance(context, str) else list(context)


def category_program(categories: Sequence[str], context: Context, question: str = "") -> str:
    """The block that puts every item of ``context`` in one of ``categories`` with classify() and counts the
    labels. The items are the lines when the documents are lists of many short lines (a log, an export, a
    register), else the documents themselves; lines that split into fields alike are classified by their
    free-text field (see :func:`~rlm_desktop.sandbox.categories.listing_of`). When ``question`` bounds the
    items by a date their lines write ("dated after Feb 08, 2023"), the block keeps only those first."""
    texts_of = [_text(item) for item in _items(context)]
    keep = ""
    if not items_are_lines(texts_of):
        items, texts = "list(context)", "items"
    else:
        lines = [line for text in texts_of for line in text.splitlines() if line.strip()]
        bound = date_bound(question_only(question) or question, lines) if question else None
        keep = f"{filter_code(bound)}\n" if bound else ""
        listing = listing_of([line for text in texts_of for line in text.splitlines()])
        each = "context.splitlines()" if isinstance(context, str) else "d.splitlines()"
        source = f"line in {each}" if isinstance(context, str) else f"d in context for line in {each}"
        if listing is None:
            items, texts = f"[line for {source} if line.strip()]", "items"
        else:
            sep = listing.separator
            items = f"[line for {source} if line.count({sep!r}) == {listing.separators}]"
            lead = f".removeprefix({listing.lead!r})" if listing.lead else ""
            texts = f"[item.split({sep!r})[{listing.text_field}]{lead} for item in items]"
    return ("```repl\n"
            f"items = {items}\n"
            f"{keep}"
            f"labels = classify({texts}, {list(categories)!r})\n"
            "print(len(items), collections.Counter(labels).most_common())\n"
            "```")


def question_message(question: str, shape: str, category_program: str | None = None,
                     share_hint: str | None = None, check: tuple[str, str] | None = None,
                     total: tuple[TotalRequest, int, str] | None = None,
                     parties: tuple[PartyRequest, str] | None = None) -> str:
    """The first user turn of a question: the shape of ``context`` (never its text), then the question.

    The shape comes first so that everything before the question is the same for every question over
    the same documents: a saved prompt state (backends/prompt_cache.py) then covers all of it.
    """
    if category_program is not None:  # a count by categories the documents never write: its program
        return (f"{shape}\n\nNew question: {question}\n\n"
                "You have not seen the documents yet, and nothing has run. The categories are not written in the "
                "documents, so searching for their names finds nothing to count: the helper model must put each item "
                "in one. Run this block first; it does that and counts the labels (if the question asks about only "
                "some of the items, keep those before counting):\n"
                f"{category_program}\n"
                "Reply with one sentence and one ```repl block.")
    if check is not None:  # is what a named document says correct: its program reads it and a second source
        document, program = check
        return (f"{shape}\n\nNew question: {question}\n\n"
                f"You have not seen the documents yet. Whether {document} is right can only be judged against "
                f"another source. Run this block first; it prints what {document} says and the same fact from "
                f"another source:\n{program}\n"
                "Then compare the two and answer Yes or No, giving both. "
                "Reply with one sentence and one ```repl block.")
    if total is not None:  # a total over documents: its program adds one amount per document in code
        asked, count, program = total
        reading = (f"Only one document's name or opening says {asked.where!r}, so the total is the amount in that "
                   f"one. Run this line first; it finds that document and the amount written after {asked.what!r} "
                   "in it:" if count == 1 else  # "under all Y" with one Y: the total is its one amount
                   f"The answer adds one amount from each of the {count} documents whose name or opening says "
                   f"{asked.where!r}; adding figures by eye loses and mixes them up. Run this line first; it picks "
                   f"those documents and adds the amount written after {asked.what!r} in each:")
        return (f"{shape}\n\nNew question: {question}\n\n"
                f"You have not seen the documents yet. {reading}\n{program}\n"
                f"Then answer with the total it printed, naming the document{'' if count == 1 else 's'}. "
                "Reply with one sentence and one ```repl block.")
    if parties is not None:  # which parties do something: the documents that write it, and each one's party
        asked, program = parties
        return (f"{shape}\n\nNew question: {question}\n\n"
                f"You have not seen the documents yet. Each document names its {asked.term} where it defines its "
                f"parties, and the documents that answer the question write {asked.phrase!r}. Run this line first; it "
                f"finds those documents and prints the party each defines as its {asked.term}:\n"
                f"{program}\n"
                "Then answer with every name it printed, each with its document. "
                "Reply with one sentence and one ```repl block.")
    start = chain_start(question)
    if start is not None:  # a nested question: its one-line program, which a 1.5B root copies where it ignores a rule
        return (f"{shape}\n\nNew question: {question}\n\n"
                f"You have not seen the documents yet. The answer goes through a chain of facts that starts at "
                f"{start}: `ask({' '.join((question_only(question) or question).split())!r}, {start!r})` follows it "
                "link by link. "
                "Reply with one sentence and one ```repl block.")
    share = f" {share_hint}" if share_hint else ""
    return (f"{shape}\n\nNew question: {question}\n\n"
            "You have not seen the documents yet. Start by searching them for key words of the question "
            f"(grep or search).{share} Reply with one sentence and one ```repl block.")


def turns_since_question(messages: Sequence[Message]) -> int:
    """Assistant turns after the run's question (the worked examples' turns before it do not count)."""
    starts = [i for i, m in enumerate(messages)
              if m.get("role") == "user" and "New question:" in str(m.get("content", ""))]
    after = messages[starts[-1]:] if starts else messages
    return sum(1 for m in after if m.get("role") == "assistant")


def output_block(output: str, *, label: str = "Output", notes: Sequence[str] = ()) -> str:
    """Printed output as a read-only fenced text block (so the model reads it rather than continues it)."""
    body = output.rstrip().replace("```", "` ` `") if output.strip() else "(nothing printed)"
    return "\n".join([f"{label}:", "```text", body, "```", *notes])


def cell_feedback(index: int, output: str, error: str | None, *, cut_from: int | None,
                  worker_truncated: bool, restarted_after: str | None, blocks: int = 1,
                  restored: bool = False, found_nothing: bool = False, repeated: bool = False,
                  assigned: Sequence[str] = ()) -> str:
    """How one cell's result is shown to the root; says so when output was cut, and what a block that only
    assigned written values set (``assigned``), so that "(nothing printed)" is not read as nothing found."""
    notes: list[str] = []
    if assigned and not output.strip() and not error:
        notes.append(f"[the block only set {'; '.join(assigned)}: values written in it, so nothing was printed]")
    if cut_from is not None:
        notes.append(f"[output cut: showing the first {len(output):,} of {cut_from:,} characters; "
                     "print smaller slices or counts]")
    elif worker_truncated:
        notes.append("[output cut by the REPL's print limit; print smaller slices or counts]")
    if error:
        notes.append(f"Error: {error}")
    if repeated and error:
        notes.append("[this block is the one you ran last, and it failed the same way: change it. A variable "
                     "exists only once a block that defines it has run without error; define it in this block]")
    elif repeated:
        notes.append("[this block is the one you ran last, and its output is the same: running it again shows "
                     "nothing new. Answer now, with FINAL(answer), from what the output has shown]")
    if restarted_after and restored:
        notes.append(f"[the REPL was restarted after hitting its {restarted_after} limit; the error above says "
                     "which variables were restored]")
    elif restarted_after:
        notes.append(f"[the REPL was restarted after hitting its {restarted_after} limit: variables "
                     "from earlier blocks are gone, `context` is loaded again]")
    if found_nothing:
        notes.append("[grep/search found nothing. That is not proof of absence: try one distinctive word, a "
                     "word stem (e.g. r\"indemnif\" rather than \"indemnification clause\"), or search() with key words]")
    label = f"Output of block {index + 1}" if blocks > 1 else "Output"
    return output_block(output, label=label, notes=notes)


def next_user_message(question: str, feedback: Sequence[str], iterations_left: int) -> str:
    """The user turn after a root turn: the output, the question again, and what to write next."""
    body = "\n\n".join(feedback) if feedback else "Your reply had no ```repl block and no FINAL(...)."
    body += f"\n\nQuestion: {question}\n"
    if iterations_left <= 1:
        body += "This is your last turn: reply with FINAL(answer) from what the output has shown."
    else:
        body += ("If the output above answers the question, reply with FINAL(answer). Otherwise write one "
                 "sentence and one ```repl block for the next step. Do not repeat the output.")
    return body


def early_final_note() -> str:
    """Told to the root when it wrote a FINAL in the same reply as code (before seeing its output)."""
    return ("Your FINAL was ignored: it was written in the same reply as code, before that code's output "
            "was seen. Read the output above, then answer with FINAL in a reply of its own.")


def repeated_failure_note() -> str:
    """Added to an error the root answered by writing the failed block again, unchanged (that turn is taken back)."""
    return ("[You wrote again, unchanged, a block that failed before, and it failed the same way. Do not write it "
            "again: read the error, then write a different block that avoids it.]")


def calls_in_final_note(calls: list[str]) -> str:
    """Told to the root when its FINAL answer held REPL calls, which were run for it (output follows)."""
    shown = ", ".join(f"`{call}`" for call in calls)
    return (f"Your FINAL was not taken: it held code ({shown}), and an answer cannot run code. It was run "
            "for you; its output is below. Answer with FINAL(...) in words, using that output.")


def degenerate_turn_note(reason: str) -> str:
    """Told to the root when its turn was stopped for repeating itself or copying output."""
    return (f"Your last reply was stopped: {reason}. Write short code that computes and prints what you "
            "need; never copy printed output into code.")


def closing_message(guard: str) -> str:
    """Asks for a final answer after a guard ended the exploration."""
    return (f"The run has reached its limit ({guard.replace('_', ' ')}). No more code will run. "
            "Give your best answer now from what you have seen, as FINAL(answer).")


SUB_SYSTEM = ("You answer a question about the text given in the message, using only that text. Quote exact "
              "names, dates and amounts. If the message gives no text to read, or the text does not answer "
              "the question, say so in one sentence.")


def sub_messages(prompt: str) -> list[Message]:
    """The messages of one sub-call: the rule to answer from the given text only, then the prompt.

    Without it a small sub-model asked "Does the memo state X?" with no text invents a memo.
    """
    return [{"role": "system", "content": SUB_SYSTEM}, {"role": "user", "content": prompt}]


def child_question(prompt: str) -> str:
    """The question a depth-2 child RLM gets: do what its `context` (the prompt) asks."""
    head = prompt[:300].replace("\n", " ")
    more = "..." if len(prompt) > 300 else ""
    return (f"`context` holds a request ({len(prompt):,} characters). Do what it asks and answer "
            f"with FINAL(answer). It begins: \"{head}{more}\"")


CLASSIFY_SYSTEM = ("You sort texts into categories. Answer with the name of the one category the text belongs "
                   "to, written exactly as in the list, and nothing else.")


def classify_messages(labels: Sequence[str], text: str,
                      examples: Sequence[tuple[str, str]] = ()) -> list[Message]:
    """The messages of one ``classify()`` sub-call: the categories, the caller's examples as real
    turns (a 0.5B model labels far better after seeing some: 44 of 60 TREC-style questions right
    with one example per label against 24 without), then the text. The text comes last so that every
    call of a batch shares the same prompt prefix (evaluated once by a batching backend)."""
    listed = "\n".join(f"- {label}" for label in labels)
    messages: list[Message] = [{"role": "system", "content": f"{CLASSIFY_SYSTEM}\n\nCategories:\n{listed}"}]
    for example, label in examples:
        messages += [{"role": "user", "content": f"Text: {example}"}, {"role": "assistant", "content": label}]
    return messages + [{"role": "user", "content": f"Text: {text}"}]


EXAMPLE_SYSTEM = "You write short example texts for a classifier."


EXAMPLES_PER_LABEL = 2
# two texts written on one line: "What is X? What is Y?" or "- A. - B." (seen from the 1.5B)
_TWO_ON_ONE_LINE = re.compile(r"(?<=[.?!])\s+[-*\u2022]\s+|(?<=\?)\s+(?=[A-Z][^?]*\?\s*$)")


def example_request(labels: Sequence[str], label: str, samples: Sequence[str]) -> str:
    """Asks for :data:`EXAMPLES_PER_LABEL` example texts of ``label``, in the form of ``samples`` (a few of the
    texts to classify).

    Measured on TREC-style questions (OOLONG-style seeds 11 and 12), the 0.5B sub-model classified 21 of 60
    right with no examples, 32 with one example per label it wrote itself, 43 with one the 1.5B root wrote;
    of 100, 65 with one per label from the root and 76 with two."""
    categories = ", ".join(repr(name) for name in labels)
    shown = "\n".join(f"- {sample}" for sample in samples)
    lead = f"Texts like these are sorted into the categories {categories}:\n{shown}\n\n" if shown else \
        f"Texts are sorted into the categories {categories}.\n\n"
    many = _NUMBER_WORDS.get(EXAMPLES_PER_LABEL, str(EXAMPLES_PER_LABEL))
    return (f"{lead}Write {many} new texts of the same kind, one per line, that differ from each other and clearly "
            f"belong to the category {label!r}. Reply with the {many} texts only.")


_NUMBER_WORDS = {2: "two", 3: "three", 4: "four"}


def example_messages(prompt: str) -> list[Message]:
    """The messages of one example-writing call."""
    return [{"role": "system", "content": EXAMPLE_SYSTEM}, {"role": "user", "content": prompt}]


def written_examples(answer: str) -> list[str]:
    """The example texts in a writer's answer: its first :data:`EXAMPLES_PER_LABEL` non-empty lines, each
    without a list mark, a "Text:" lead or surrounding quotes."""
    texts = []
    for line in (part for whole in answer.splitlines() for part in _TWO_ON_ONE_LINE.split(whole)):
        line = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s*", "", line).strip()
        if line.casefold().startswith("text:"):
            line = line[5:].strip()
        if len(line) >= 2 and line[0] == line[-1] and line[0] in "\"'`":
            line = line[1:-1].strip()
        if line:
            texts.append(line)
    return texts[:EXAMPLES_PER_LABEL]


ANSWER_SYSTEM = ("You answer a question from the sentences given. Reply with the exact name, date or amount only, "
                 "copied from the sentences, or NONE if they do not say.")
# Worked turns for ask(): a 0.5B reader answered "Who founded X?" with X itself, or a
# company that only held talks, far more often without them. Their relations (audit,
# chair, lease) are none of the eval tasks' relations.
_ANSWER_EXAMPLES = (
    ("- Nordic Mills supplies flour to the Bergen bakery. (supply_2019.txt, page 1)\n"
     "- Holm & Co have audited Nordic Mills since 2015. (annual_report.txt, page 4)\n"
     "- Nordic Mills asked Dahl Revisjon for an audit quote in 2014, but chose another firm. (board_minutes.txt, page 2)",
     "Which firm audits Nordic Mills?", "Holm & Co"),
    ("- Arven Foods leases its warehouse from Kranvik Property. (lease.txt, page 1)\n"
     "- Kari Dahl has chaired Arven Foods since 2019. (profile_arven.txt, page 1)\n"
     "- Kari Dahl lives in Tromso. (profile_dahl.txt, page 1)",
     "Who chairs Arven Foods?", "Kari Dahl"),
    ("- The Oslo office lease runs from 1 May 2020. (lease_oslo.txt, page 1)\n"
     "- The Oslo office lease was signed by Ingrid Saether. (lease_oslo.txt, page 3)",
     "What is the notice period of the Oslo office lease?", "NONE"),
)


def answer_prompt(question: str, sentences: str) -> str:
    """The user turn of one ``ask()`` sub-call: the sentences, then the question."""
    return f"Sentences from the documents:\n{sentences}\n\nQuestion: {question}"


def answer_messages(prompt: str) -> list[Message]:
    """The messages of one ``ask()`` sub-call: the rule, three worked turns, then the prompt."""
    messages: list[Message] = [{"role": "system", "content": ANSWER_SYSTEM}]
    for sentences, question, answer in _ANSWER_EXAMPLES:
        messages += [{"role": "user", "content": answer_prompt(question, sentences)},
                     {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": prompt}]
