"""Turn chat messages into one prompt string with the template stored in a GGUF file.

Instruct models carry a Jinja2 chat template in ``tokenizer.chat_template``; it is
rendered with llama-cpp-python's sandboxed Jinja2 formatter. Base models (e.g. the
Gemma 3 270M demo) have none: they get a plain ``### User:`` / ``### Assistant:``
transcript, which base models continue sensibly, with stop strings at the next turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from rlm_desktop.backends.base import Message
from rlm_desktop.errors import BackendError

TEMPLATE_KEY = "tokenizer.chat_template"
_TRANSCRIPT_ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready to tokenize, plus stop strings the format implies."""

    text: str
    stops: list[str] = field(default_factory=list)
    starts_with_bos: bool = False  # the template wrote the BOS token itself: do not add another


class ChatTemplate:
    """Renders messages with a GGUF's own template, or a plain transcript when it has none."""

    def __init__(self, template: str | None, *, bos_token: str = "", eos_token: str = "", model: str = "model") -> None:
        self.model = model
        self.bos_token = bos_token
        self._formatter = (
            Jinja2ChatFormatter(template=template, eos_token=eos_token, bos_token=bos_token) if template else None
        )

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], *, bos_token: str, eos_token: str, model: str) -> "ChatTemplate":
        return cls(metadata.get(TEMPLATE_KEY) or None, bos_token=bos_token, eos_token=eos_token, model=model)

    @property
    def kind(self) -> str:
        """``"gguf"`` when the file's own template is used, ``"transcript"`` for the fallback."""
        return "gguf" if self._formatter is not None else "transcript"

    def render(self, messages: list[Message]) -> RenderedPrompt:
        """The prompt for ``messages``, ending where the assistant's reply begins."""
        _check_messages(messages, self.model)
        if self._formatter is None:
            return _render_transcript(messages)
        try:
            text = self._formatter(messages=messages).prompt
        except Exception as exc:  # jinja2 errors, raise_exception() inside templates
            raise BackendError(f"The chat template of {self.model} could not render these messages: {exc}") from exc
        starts_with_bos = bool(self.bos_token) and text.startswith(self.bos_token)
        return RenderedPrompt(text=text, starts_with_bos=starts_with_bos)


def _check_messages(messages: list[Message], model: str) -> None:
    if not messages:
        raise BackendError(f"No messages given to {model}.")
    for message in messages:
        if message.get("role") not in _TRANSCRIPT_ROLES or not isinstance(message.get("content"), str):
            raise BackendError(f"Bad chat message for {model}: {str(message)[:80]!r} (need role and content).")


def _render_transcript(messages: list[Message]) -> RenderedPrompt:
    parts = [f"### {_TRANSCRIPT_ROLES[m['role']]}:\n{m['content'].strip()}\n\n" for m in messages]
    parts.append("### Assistant:\n")
    stops = ["\n### User:", "\n### System:", "\n### Assistant:"]
    return RenderedPrompt(text="".join(parts), stops=stops)
