"""Plain chat for model names that are not ``rlm:<collection>``: the installed models answer directly."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rlm_desktop import runtime
from rlm_desktop.backends.base import CancelToken, Completion, LanguageModel, Message
from rlm_desktop.errors import ModelNotFound, RequestRejected

_ROLES = {"system", "user", "assistant"}


def installed_model_names() -> list[str]:
    """Names a client may use for plain chat: the installed models and the demo models."""
    from rlm_desktop.hub.demo import DEMO_MODELS

    names = [m.key for m in DEMO_MODELS]
    try:
        from rlm_desktop.hub.local import installed_models

        names += [m.name for m in installed_models()]
    except Exception:  # a broken registry must not take the model list down
        pass
    return list(dict.fromkeys(names))


class ChatModels:
    """Models loaded on first use by name and kept for later requests."""

    def __init__(self, *, threads: int | None = None, allowed: Callable[[], list[str]] = installed_model_names,
                 extra: dict[str, str] | None = None) -> None:
        self.threads = threads
        self.allowed = allowed
        self.extra = dict(extra or {})  # served name -> model spec (e.g. a .gguf path given on the command line)
        self._lock = threading.Lock()
        self._models: dict[str, LanguageModel] = {}

    def names(self) -> list[str]:
        return list(dict.fromkeys([*self.extra, *self.allowed()]))

    def get(self, name: str) -> LanguageModel:
        with self._lock:
            if name not in self._models:
                if name not in self.extra and name not in self.allowed():
                    raise ModelNotFound(f"No model named {name!r}: use rlm:<collection> or an installed model.")
                self._models[name] = runtime.load_model(self.extra.get(name, name), n_threads=self.threads)
            return self._models[name]

    def chat(self, name: str, messages: list[Message], *, max_tokens: int, temperature: float,
             stop: list[str] | None, cancel: CancelToken, on_token: Callable[[str], None] | None = None,
             seed: int | None = None) -> Completion:
        model = self.get(name)
        return model.chat(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                          on_token=on_token, cancel=cancel, seed=seed)

    def close(self) -> None:
        with self._lock:
            for model in self._models.values():
                model.close()
            self._models.clear()


def chat_messages(raw: Any) -> list[Message]:
    """OpenAI ``messages`` as plain role/content dicts (text parts joined); RequestRejected when malformed."""
    if not isinstance(raw, list) or not raw:
        raise RequestRejected("'messages' must be a non-empty list.")
    messages: list[Message] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("role") not in _ROLES:
            raise RequestRejected(f"messages[{i}] needs a role of system, user or assistant.")
        content = item.get("content")
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content
                              if isinstance(part, dict) and part.get("type") == "text")
        if not isinstance(content, str):
            raise RequestRejected(f"messages[{i}].content must be text.")
        messages.append({"role": item["role"], "content": content})
    return messages


def last_user_message(messages: list[Message]) -> str:
    for message in reversed(messages):
        if message["role"] == "user" and message["content"].strip():
            return message["content"]
    raise RequestRejected("No user message to answer.")
