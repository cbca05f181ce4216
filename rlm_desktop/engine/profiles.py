"""Prompt profiles: how the root model is addressed, chosen per model in the catalog.

- ``default``: our prompt (:mod:`rlm_desktop.engine.prompts`): a short system prompt, a
  worked example given as real turns, output shown as a read-only block and the
  question restated each turn. Written for small local coder models, and used for
  every model unless its catalog entry says otherwise.
- ``rlm-paper``: the conventions of the RLM paper authors' scaffold, for models
  fine-tuned on its trajectories (RLM-Qwen3-8B and community RLM fine-tunes): a
  system prompt built the same way (context, ``llm_query``, ``llm_query_batched``,
  ``SHOW_VARS``, ```repl blocks, FINAL/FINAL_VAR), the context described as a type with
  its total characters and chunk lengths, and each turn asking for the next action
  towards the original prompt. The wording is ours; the protocol strings a tuned model
  keys on (the metadata line, "Your next action:") follow the scaffold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rlm_desktop.backends.base import Message
from rlm_desktop.documents import Context, context_texts
from rlm_desktop.engine import prompts


@dataclass(frozen=True)
class PromptProfile:
    """The three places where the root is addressed."""

    name: str
    system: Callable[[int | None, int], str]
    first_messages: Callable[[str, Context, str], list[Message]]
    next_message: Callable[[str, Sequence[str], int], str]


_PAPER_SYSTEM = """You are answering a query about a context that you can only reach through a Python REPL. \
You will be called iteratively until you give a final answer.

The REPL holds:
1. `context`: the data of the query. Look at it (its type, sizes, a few slices) before you rely on it.
2. `llm_query(prompt)`: one completion of a sub-LLM on a prompt you build (it can read about {sub_chars} \
characters). Use it for extraction, classification and short answers over chunks of the context.
3. `llm_query_batched(prompts)`: many `llm_query` calls at once; returns the answers in order.
4. `SHOW_VARS()`: the variables you have created.
5. `print()`: you see (truncated) printed output, so keep what you need in variables.

Break the problem down: chunk the context, query the sub-LLM per chunk and keep the answers in variables, \
then combine them in code or with one more `llm_query`.

Write code to run in ```repl blocks, for example:
```repl
chunk = context[:10000]
answer = llm_query(f"What does this text say about the question? Text: {{chunk}}")
print(answer)
```

When you are done, give the final answer outside code: FINAL(your answer) to answer directly, or \
FINAL_VAR(variable_name) to answer with a variable you created in an earlier ```repl block. Answer the \
original query explicitly."""


def _paper_system(sub_context_tokens: int | None, sub_max_tokens: int) -> str:
    chars = prompts.sub_prompt_chars(sub_context_tokens, sub_max_tokens)
    return _PAPER_SYSTEM.replace("{sub_chars}", f"{chars:,}").replace("{{", "{").replace("}}", "}")


def _paper_metadata(context: Context) -> str:
    kind = "str" if isinstance(context, str) else "list"
    lengths = [len(text) for text in context_texts(context)]
    shown = str(lengths[:100]) + (f"... [{len(lengths) - 100} others]" if len(lengths) > 100 else "")
    return (f"Your context is a {kind} with {sum(lengths)} total characters, and is broken up into chunks of "
            f"char lengths: {shown}.")


def _paper_next_action(question: str) -> str:
    return (f"Think step-by-step on what to do using the REPL environment (which contains the context) to answer "
            f"the original prompt: \"{question}\".\n\nContinue using the REPL environment, which has the `context` "
            "variable, and querying sub-LLMs by writing to ```repl``` tags, and determine your answer. "
            "Your next action:")


def _paper_first(question: str, context: Context, system: str) -> list[Message]:
    return [{"role": "system", "content": system},
            {"role": "user", "content": _paper_metadata(context) + "\n\nYou have not interacted with the REPL "
                                        "environment or seen your context yet. Look through it before answering."
                                        "\n\n" + _paper_next_action(question)}]


def _paper_next(question: str, feedback: Sequence[str], iterations_left: int) -> str:
    body = "\n\n".join(feedback) if feedback else "(no ```repl block was run)"
    last = "\n\nThis is your last turn: give FINAL(answer) now." if iterations_left <= 1 else ""
    return f"{body}\n\n{_paper_next_action(question)}{last}"


PROFILES: dict[str, PromptProfile] = {
    "default": PromptProfile("default", prompts.system_prompt, prompts.first_messages, prompts.next_user_message),
    "rlm-paper": PromptProfile("rlm-paper", _paper_system, _paper_first, _paper_next),
}


def get_profile(name: str | None) -> PromptProfile:
    """The profile called ``name`` (``default`` for None); ValueError naming the known ones otherwise."""
    try:
        return PROFILES[name or "default"]
    except KeyError:
        raise ValueError(f"No prompt profile {name!r}; known: {', '.join(PROFILES)}") from None
