"""Language models behind one small protocol (see :mod:`rlm_desktop.backends.base`)."""

from rlm_desktop.backends.base import CancelToken, Completion, LanguageModel, Message, Usage

__all__ = ["CancelToken", "Completion", "LanguageModel", "Message", "Usage"]
