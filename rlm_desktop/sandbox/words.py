"""Words as the helpers and checks compare them: a plural read as its singular."""

from __future__ import annotations


def singular(text: str) -> str:
    """The last word of ``text`` in the singular: "agreements" -> "agreement", "leases" -> "lease", "policies" ->
    "policy"; other words as they are."""
    head, _, word = text.rpartition(" ")
    return f"{head} {singular_word(word)}" if head else singular_word(word)


def singular_word(word: str) -> str:
    """``word`` in the singular ("agreements", "policies", "boxes" -> "agreement", "policy", "box")."""
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if lower.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word
