"""What the root model is told: the system prompt, the context's shape, cell feedback.

Written for local coder models (Qwen2.5/Qwen3-Coder, Llama, Gemma): plain
instructions, short worked examples of the strategies the RLM paper saw work
(keyword search, uniform chunking with batched sub-calls, keeping sub-call results
in variables, verifying before answering). The root never sees the context itself,
only its shape.
"""

from __future__ import annotations

from collections.abc import Sequence

from rlm_desktop.backends.base import Message
from rlm_desktop.documents import Context, Document

_SYSTEM_TEMPLATE = '''You answer a question about documents that are far too long to read at once.
They are loaded in a Python REPL as the variable `context`. You cannot see them; you explore
them by writing Python code. Each reply: a few lines of reasoning, then ONE code block:

```repl
print(len(context))
```

I run the block and show you what it printed (long output is cut, so print slices and counts,
not whole documents). Variables you define stay available in later blocks.

In the REPL you have:
- `context`: a list of documents (each is a str with `.name`, `.pages` and `.page_at(offset)`),
  or a single str.
- `grep(pattern, context_chars=80, max_hits=200)`: regex search over all documents, case-insensitive
  (`ignore_case=False` to match case); returns hits with `.document`, `.page`, `.start`, `.end`,
  `.snippet`.
- `search(query, k=10)`: ranked keyword search for passages; returns hits like grep.
- `chunk(text, size, overlap=0)`: split a text into pieces of `size` characters.
- `llm_query(prompt)`: ask a helper language model about a piece of text (it can read about
  {sub_chars} characters at a time). It only sees what you put in the prompt.
- `llm_query_batched(prompts)`: the same for a list of prompts, run in parallel; answers come
  back in the same order. Much faster than a loop of llm_query.
- `cite(document, page, quote)`: record the passage your answer rests on.
- `SHOW_VARS()`: list the variables you have defined.
- `FINAL(answer)`: give the final answer and stop. `FINAL_VAR(name)`: answer with a variable.

Strategies that work:

1. Look before you read: sizes, names, a few hundred characters.
```repl
for d in context[:20]:
    print(d.name, len(d))
print(context[0][:500])
```

2. Search by keyword when the question names something specific.
```repl
hits = grep(r"change of control|assignment", context_chars=150)
print(len(hits))
for h in hits[:10]:
    print(h)
```

3. Chunk the text and ask the helper about every chunk in one batch; keep the answers in a
variable and look at them in the next block.
```repl
pieces = []
for d in context:
    for part in chunk(d, {chunk_chars}):
        pieces.append((d.name, part))
prompts = ["Does this text state the purchase price? If yes, copy the sentence. "
           "If not, answer NONE.\\n\\n" + part for name, part in pieces]
answers = llm_query_batched(prompts)
found = [(pieces[i][0], a) for i, a in enumerate(answers) if "NONE" not in a]
print(len(found), found[:5])
```

4. Verify before answering: check a candidate against the text itself with code, then cite it.
```repl
import re
price = "EUR 48,500,000"
hits = grep(re.escape(price))
print(hits[:3])
if hits:
    cite(hits[0].document, hits[0].page, hits[0].snippet)
```

5. Answer when you are sure, with the facts and where they come from.
```repl
answer = "The purchase price is EUR 48,500,000 (share_purchase_agreement.md, page 2)."
FINAL_VAR("answer")
```

Rules: one ```repl block per reply; never guess what a block prints, wait for the output; use
only these imports: re, json, math, statistics, collections, itertools, functools, string,
textwrap, datetime. Answer in the language of the question.'''

_LIST_LIMIT = 20
_CHARS_PER_TOKEN = 3  # conservative for English prose and legal text


def system_prompt(sub_context_tokens: int | None = None, sub_max_tokens: int = 512) -> str:
    """The root's system prompt; chunk sizes in the examples fit the sub-model's window."""
    tokens = sub_context_tokens or 8192
    usable = max(1000, (tokens - sub_max_tokens - 200) * _CHARS_PER_TOKEN)
    chunk_chars = max(1000, min(usable * 3 // 4, 40_000) // 1000 * 1000)
    return _SYSTEM_TEMPLATE.replace("{sub_chars}", f"{usable // 1000 * 1000:,}").replace(
        "{chunk_chars}", str(chunk_chars))


def describe_context(context: Context) -> str:
    """The context's shape: type, total characters, documents with names and lengths."""
    if isinstance(context, str):
        return f"`context` is a single str of {len(context):,} characters."
    items = list(context)
    total = sum(len(_text(item)) for item in items)
    kind = "documents" if items and isinstance(items[0], Document) else "strings"
    lines = [f"`context` is a list of {len(items)} {kind}, {total:,} characters in total."]
    for i, item in enumerate(items[:_LIST_LIMIT]):
        lines.append(f"  context[{i}]: {_name(item, i)} ({len(_text(item)):,} chars{_pages(item)})")
    if len(items) > _LIST_LIMIT:
        lines.append(f"  ... and {len(items) - _LIST_LIMIT} more (print [d.name for d in context] to see all)")
    return "\n".join(lines)


def _text(item: Document | str) -> str:
    return item.text if isinstance(item, Document) else item


def _name(item: Document | str, index: int) -> str:
    return repr(item.name) if isinstance(item, Document) else f"string {index + 1}"


def _pages(item: Document | str) -> str:
    if isinstance(item, Document) and item.page_count > 1:
        return f", {item.page_count} pages"
    return ""


def first_messages(question: str, context: Context, system: str) -> list[Message]:
    """System prompt plus the first user message: the context's shape, then the question.

    The shape comes first so that questions over the same collection share the whole prompt
    up to the question, and a saved prompt state of the root spares evaluating it again.
    """
    user = (
        f"{describe_context(context)}\n\n"
        "You have not looked at the context yet. Start by exploring it with a ```repl block; "
        f"do not answer before you have seen evidence.\n\nQuestion: {question}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def cell_feedback(index: int, output: str, error: str | None, *, cut_from: int | None,
                  worker_truncated: bool, restarted_after: str | None) -> str:
    """How one cell's result is shown to the root; says so when output was cut."""
    parts = [f"Output of block {index + 1}:"]
    parts.append(output.rstrip() if output.strip() else "(nothing printed)")
    if cut_from is not None:
        parts.append(f"[output cut: showing the first {len(output):,} of {cut_from:,} characters; "
                     "print smaller slices or counts]")
    elif worker_truncated:
        parts.append("[output cut by the REPL's print limit; print smaller slices or counts]")
    if error:
        parts.append(f"Error: {error}")
    if restarted_after:
        parts.append(f"[the REPL was restarted after hitting its {restarted_after} limit: variables "
                     "from earlier blocks are gone, `context` is loaded again]")
    return "\n".join(parts)


def next_user_message(feedback: Sequence[str], iterations_left: int) -> str:
    """The user turn after a root turn: cell outputs, or a reminder of the format."""
    if feedback:
        body = "\n\n".join(feedback)
    else:
        body = ("Your reply had no ```repl block and no FINAL(...). Reply with reasoning and one "
                "```repl block, or with FINAL(answer) once you are sure.")
    if iterations_left <= 1:
        body += "\n\nThis is your last turn: give FINAL(answer) now with what you have found."
    else:
        body += "\n\nContinue: write the next ```repl block, or FINAL(answer) if you are sure."
    return body


def closing_message(guard: str) -> str:
    """Asks for a final answer after a guard ended the exploration."""
    return (f"The run has reached its limit ({guard.replace('_', ' ')}). No more code will run. "
            "Give your best answer now from what you have seen, as FINAL(answer).")


def child_question(prompt: str) -> str:
    """The question a depth-2 child RLM gets: do what its `context` (the prompt) asks."""
    head = prompt[:300].replace("\n", " ")
    more = "..." if len(prompt) > 300 else ""
    return (f"`context` holds a request ({len(prompt):,} characters). Do what it asks and answer "
            f"with FINAL(answer). It begins: \"{head}{more}\"")
