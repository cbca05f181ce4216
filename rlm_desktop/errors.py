"""Typed exceptions, one family per layer.

Faces (CLI, GUI) catch :class:`RLMDesktopError` and show ``str(exc)`` to the user:
every message names the thing involved (file, model, document) and the cause.
"""

from __future__ import annotations


class RLMDesktopError(Exception):
    """Base of every error this package raises on purpose."""


# --- backends -------------------------------------------------------------
class BackendError(RLMDesktopError):
    """A language model could not be loaded or did not answer."""


class ModelLoadError(BackendError):
    """A model file or server could not be opened (missing, not GGUF, unreachable)."""


class ContextOverflowError(BackendError):
    """A prompt does not fit the model's context window; never truncated silently."""

    def __init__(self, model: str, prompt_tokens: int, context_length: int) -> None:
        super().__init__(
            f"Prompt of {prompt_tokens} tokens does not fit the context window of "
            f"{model} ({context_length} tokens)."
        )
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.context_length = context_length


class GenerationCancelled(BackendError):
    """Generation was cancelled from another thread."""


# --- sandbox --------------------------------------------------------------
class SandboxError(RLMDesktopError):
    """The sandbox worker could not be started or talked to."""


class SandboxPolicyError(SandboxError):
    """Code was refused by the sandbox policy (import, dunder, open, exec, ...)."""


# --- engine ---------------------------------------------------------------
class EngineError(RLMDesktopError):
    """The RLM loop failed in a way that is not a guard or a cancel."""


class RunCancelled(EngineError):
    """A run was cancelled by the user."""


class ResumeError(EngineError):
    """A stored run cannot be continued (finished, older record, documents or models gone)."""


# --- library --------------------------------------------------------------
class LibraryError(RLMDesktopError):
    """The document library (SQLite) could not be opened or queried."""


class ExtractionError(LibraryError):
    """One file could not be turned into text; the message names file and cause."""


class NoTextFound(ExtractionError):
    """The file was read and carries no text (a blank image, an icon): skipped, not a failure."""


class OCRError(LibraryError):
    """OCR of one page failed (its worker crashed, was killed or hung); the extractor names the file."""


class OCRUnavailable(OCRError):
    """The OCR engine cannot be loaded here (not installed, native libraries or models missing)."""


class DocumentNotFound(LibraryError):
    """No document or collection with that name or id."""


# --- hub ------------------------------------------------------------------
class HubError(RLMDesktopError):
    """Model catalog, download or import failed."""


class DownloadError(HubError):
    """A download failed (network, 404, gated, disk full, interrupted)."""


class DownloadCancelled(DownloadError):
    """A download was cancelled; the partial file is kept for resume."""


class ChecksumMismatch(DownloadError):
    """A downloaded file did not match the hub's sha256; it was removed."""


class NotGGUFError(HubError):
    """A file given as a model is not a GGUF file."""


class ModelNotFound(HubError):
    """No installed or catalog model with that name."""


class ModelAssemblyError(HubError):
    """A model shipped on PyPI as raw parts could not be assembled; no file is left as if valid."""


class PartPackageMissing(ModelAssemblyError, ModelNotFound):
    """A part package of a model shipped on PyPI is not installed; the message names it and the pip command."""


class AssemblyChecksumMismatch(ModelAssemblyError):
    """The assembled parts do not have the expected size or sha256; the partial file was removed."""


class NotEnoughDiskSpace(ModelAssemblyError):
    """The models folder has no room for a model file; the message says how much is needed and free."""


# --- local services (rlm serve, rlm mcp) ------------------------------------
class ServiceError(RLMDesktopError):
    """A local server could not start, or refused its configuration."""


class RequestRejected(ServiceError):
    """A client request that a server answers with an error; ``status`` is its HTTP status."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
