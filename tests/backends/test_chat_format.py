"""Rendering messages with a GGUF chat template, and the transcript fallback for base models."""

from __future__ import annotations

import pytest

from rlm_desktop.backends.chat_format import ChatTemplate
from rlm_desktop.errors import BackendError

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CONVERSATION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def test_renders_the_gguf_template_with_the_generation_prompt() -> None:
    prompt = ChatTemplate(CHATML, bos_token="<s>", eos_token="</s>").render(CONVERSATION)
    assert prompt.text == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    assert prompt.stops == []
    assert not prompt.starts_with_bos


def test_a_template_that_writes_bos_says_so() -> None:
    prompt = ChatTemplate("{{ bos_token }}" + CHATML, bos_token="<s>").render(CONVERSATION)
    assert prompt.starts_with_bos


def test_a_base_model_without_template_gets_a_transcript_with_stops() -> None:
    template = ChatTemplate(None, model="gemma-3-270m")
    assert template.kind == "transcript"
    prompt = template.render(CONVERSATION)
    assert prompt.text == "### System:\nBe brief.\n\n### User:\nHi\n\n### Assistant:\n"
    assert "\n### User:" in prompt.stops


def test_a_template_error_names_the_model() -> None:
    template = ChatTemplate("{{ raise_exception('roles must alternate') }}", model="picky")
    with pytest.raises(BackendError, match="picky.*roles must alternate"):
        template.render(CONVERSATION)


def test_bad_messages_are_refused() -> None:
    with pytest.raises(BackendError, match="Bad chat message"):
        ChatTemplate(CHATML).render([{"role": "wizard", "content": "x"}])
    with pytest.raises(BackendError, match="No messages"):
        ChatTemplate(CHATML).render([])
