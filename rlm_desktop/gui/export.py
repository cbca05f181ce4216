"""A stored run as a Markdown report: question, answer, citations, trajectory."""

from __future__ import annotations

import time
from typing import Any

from rlm_desktop.gui.answer_view import as_citation
from rlm_desktop.gui.trajectory_view import describe_stop


def _fence(text: str, lang: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in str(text).splitlines() or [""])


def run_markdown(record: Any) -> str:
    """Markdown for a RunRecord (with its events)."""
    summary = record.summary or {}
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
    lines = [f"# Run {record.id}: {record.question.strip()}", ""]
    lines.append(f"- Asked: {when}")
    lines.append(f"- Collection: {record.collection or 'all documents'}")
    lines.append(f"- Models: root {record.models.get('root', '?')}, sub {record.models.get('sub', '?')}")
    ended = "the model's FINAL answer" if not record.stopped_by else describe_stop(record.stopped_by)
    lines.append(f"- Ended by: {ended}")
    if summary:
        lines.append(f"- Root turns: {summary.get('iterations', '?')}, sub-calls: {summary.get('sub_calls', '?')}"
                     f" ({summary.get('cache_hits', 0)} cached), {float(summary.get('seconds') or 0):.1f} s")
    usage = record.usage or {}
    for role, u in usage.items():
        if isinstance(u, dict):
            lines.append(f"- Tokens ({role}): {int(u.get('prompt_tokens', 0)):,} prompt, "
                         f"{int(u.get('completion_tokens', 0)):,} completion")
    if record.documents:
        names = ", ".join(d.get("name", "?") for d in record.documents[:20])
        more = f" and {len(record.documents) - 20} more" if len(record.documents) > 20 else ""
        lines.append(f"- Documents ({len(record.documents)}): {names}{more}")
    lines += ["", "## Answer", "", (record.answer or "_No answer._").strip(), ""]
    citations = [as_citation(c) for c in summary.get("citations") or []]
    if citations:
        lines += ["## Citations", ""]
        for i, c in enumerate(citations, 1):
            snippet = " ".join(c.snippet.split())
            lines.append(f"{i}. {c.label()}" + (f" — “{snippet}”" if snippet else ""))
        lines.append("")
    lines += ["## Trajectory", ""]
    lines += _trajectory(record.events)
    return "\n".join(lines).rstrip() + "\n"


def _trajectory(events: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for e in events:
        kind = e.get("kind")
        indent = "  " * int(e.get("depth") or 0)
        if kind == "root_turn":
            if e.get("depth"):
                out += [f"{indent}- sub-RLM turn {e.get('iteration')}", ""]
                continue
            out += [f"### Root turn {e.get('iteration')}", "",
                    f"_{int(e.get('prompt_tokens') or 0):,} prompt tokens, "
                    f"{int(e.get('completion_tokens') or 0):,} completion tokens, "
                    f"{float(e.get('seconds') or 0):.1f} s_", "", _fence(str(e.get("text", ""))), ""]
        elif kind == "code_cell" and not e.get("depth"):
            out += [f"Code cell {int(e.get('index') or 0) + 1}:", "", _fence(str(e.get("code", "")), "python"), ""]
        elif kind == "cell_output" and not e.get("depth"):
            text = str(e.get("output") or "")
            if e.get("error"):
                text += ("\n" if text else "") + str(e["error"])
            note = " (cut)" if e.get("truncated") else ""
            out += [f"Output{note}:", "", _fence(text or "(no output)"), ""]
        elif kind == "sub_call_finished":
            answer = " ".join(str(e.get("answer_preview", "")).split())
            cached = ", cached" if e.get("cached") else ""
            out.append(f"{indent}- sub-call #{e.get('call_id')}{cached}: → {answer}")
        elif kind == "sub_call_started":
            prompt = " ".join(str(e.get("prompt_preview", "")).split())
            out.append(f"{indent}- sub-call #{e.get('call_id')} prompt ({e.get('prompt_chars', '?')} chars): {prompt}")
        elif kind == "final" and not e.get("depth"):
            out += ["", "### Final", "", _quote(str(e.get("answer", ""))), ""]
        elif kind == "error":
            out += ["", f"**Error:** {e.get('message', '')}", ""]
    return out
