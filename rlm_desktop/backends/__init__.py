"""Language models behind one small protocol (see :mod:`rlm_desktop.backends.base`)."""

import os

# llama.cpp's OpenMP threads busy-wait between operations by default; on a laptop that also
# runs the sandbox, the GUI and other apps, that spinning halves throughput (measured: 512-token
# prefill 22.7 s -> 9.0 s for SmolLM2 on a loaded 2-core machine). Read once when libgomp loads,
# i.e. before llama_cpp is first imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from rlm_desktop.backends.base import CancelToken, Completion, LanguageModel, Message, Usage  # noqa: E402

__all__ = ["CancelToken", "Completion", "LanguageModel", "Message", "Usage"]
