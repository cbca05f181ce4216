"""Composition for the faces: turn model specs and settings into running objects.

The CLI and the GUI both build their models and engine configuration here, so a
spec means the same thing everywhere:

- ``http://...`` / ``https://...``: an OpenAI-compatible server (``URL#model`` picks a model);
- a path to a ``.gguf`` file;
- a demo key (``demo-smollm2-135m``, ``demo-gemma3-270m``), a starter key
  (``qwen2.5-coder-1.5b-instruct-q4km``: assembled from its PyPI parts on first use) or an installed
  model name;
- ``scripted:FILE.json``: a JSON list of outputs replayed in order (demos and tests of the loop), or
  ``{"outputs": [...], "delay": SECONDS}`` for a slow model (progress and cancel tests);
- ``scripted-turns:FILE.json``: the same list, answered by conversation position (output ``n`` when the
  conversation holds ``n`` assistant turns after its question), so a resumed run gets the turn it is at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from rlm_desktop.backends.base import LanguageModel
from rlm_desktop.engine.prompts import turns_since_question
from rlm_desktop.errors import ModelLoadError, ModelNotFound
from rlm_desktop.hub import demo
from rlm_desktop.hub.defaults import (  # noqa: F401  (the faces read the default choice here)
    DEFAULT_ROOT, DEFAULT_SUB, FALLBACK_ROOT, FALLBACK_SUB, default_models,
)

if TYPE_CHECKING:
    from rlm_desktop.engine import RLMConfig
    from rlm_desktop.hub.catalog import Catalog, CatalogModel
    from rlm_desktop.settings import Settings


def prompt_profile(spec: str) -> str:
    """The prompt profile the catalog gives the model ``spec`` names ("default" when it names none).

    Found by catalog key, by an installed model's name or hub file, by a .gguf path's file name, or
    by the model name after ``#`` in a server URL.
    """
    from rlm_desktop.errors import HubError
    from rlm_desktop.hub.catalog import load_catalog

    text = spec.strip()
    if not text or text.startswith("scripted:"):
        return "default"
    try:
        catalog = load_catalog()
    except HubError:
        return "default"
    if text.startswith(("http://", "https://")):
        text = text.partition("#")[2]
    entry = catalog.models.get(text) or _catalog_entry_for_installed(text, catalog)
    return entry.prompt_profile if entry is not None else "default"


def _catalog_entry_for_installed(text: str, catalog: "Catalog") -> "CatalogModel | None":
    """The catalog entry of an installed name or a .gguf path, matched by hub repo and file or file name."""
    from rlm_desktop.hub.local import ModelRegistry

    try:
        registry = ModelRegistry()
        installed = registry.get(text)
        path = Path(text).expanduser()
        if installed is None and path.suffix.lower() == ".gguf":
            installed = registry.find_path(path) if path.is_file() else None
    except OSError:
        return None
    if installed is not None:
        if installed.name in catalog.models:
            return catalog.models[installed.name]
        if installed.repo and installed.file:
            return catalog.find_file(installed.repo, installed.file)
    name = Path(text).name
    return next((m for m in catalog.models.values() if m.file and m.file == name), None)


def is_demo_model(spec: str) -> bool:
    """True for the demo keys and for paths of the demo GGUF files."""
    if spec in {m.key for m in demo.DEMO_MODELS}:
        return True
    return Path(spec).name in {"SmolLM2-135M-Instruct.Q4_1.gguf"} or Path(spec).name.startswith("gemma-3-270m")


def load_model(spec: str, *, n_ctx: int | None = None, n_threads: int | None = None,
               n_gpu_layers: int | None = None, parallel: int = 1, batching: bool = False,
               prompt_cache: bool = False, draft: str = "none", draft_model: str | None = None) -> LanguageModel:
    """Open the model ``spec`` names (URL, .gguf path, demo key or installed name).

    ``None`` for n_ctx / n_threads / n_gpu_layers means the installed model's own setting (or
    the backend default); an explicit value, 0 GPU layers included, wins.

    ``parallel`` gives an in-process model that many independent contexts, so that
    concurrent sub-calls overlap; ``batching`` instead decodes concurrent and batched calls
    together in one context (sub models). ``prompt_cache`` keeps evaluated prompt states in
    memory and under the data dir across runs (root models). Both only apply to in-process
    models. ``draft`` (``none``, ``lookup``, ``model``; see :func:`root_draft`) decodes an in-process
    model speculatively, ``model`` with the model spec ``draft_model`` drafting.
    Raises ModelNotFound / ModelLoadError with a short message.
    """
    extras = {"batching": batching, "prompt_cache": prompt_cache, "draft": draft,
              "draft_model": model_file(draft_model) if draft == "model" and draft_model else None}
    spec = spec.strip()
    if spec.startswith("scripted:"):
        return _scripted(Path(spec.removeprefix("scripted:")).expanduser())
    if spec.startswith("scripted-turns:"):
        return _scripted(Path(spec.removeprefix("scripted-turns:")).expanduser(), by_turn=True)
    if spec.startswith(("http://", "https://")):
        from rlm_desktop.backends.openai_http import OpenAIHTTPModel

        base_url, _, model = spec.partition("#")
        return OpenAIHTTPModel(base_url, model=model or None, context_length=n_ctx)
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf" or path.is_file():
        if not path.is_file():
            raise ModelNotFound(f"No model file at {path}")
        return _llamacpp(path, n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers or 0, parallel=parallel,
                         **extras)
    installed = _resolve_installed(spec)
    if installed is not None:
        return _llamacpp(Path(installed.path), n_ctx=n_ctx or getattr(installed, "n_ctx", None),
                         n_threads=n_threads or getattr(installed, "n_threads", None),
                         n_gpu_layers=(getattr(installed, "n_gpu_layers", 0) if n_gpu_layers is None
                                       else n_gpu_layers), parallel=parallel, **extras)
    return _llamacpp(demo.demo_model_path(spec, _models_dir()), n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers or 0,
                     parallel=parallel, **extras)


def _models_dir() -> Path:
    from rlm_desktop.settings import models_dir

    return models_dir()


def _scripted(path: Path, *, by_turn: bool = False) -> LanguageModel:
    from rlm_desktop.backends.scripted import ScriptedModel

    try:
        script = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Could not read scripted model {path}: {exc}") from exc
    # A list of outputs, or {"outputs": [...], "delay": seconds before each answer} for slow-model tests.
    outputs, delay = (script.get("outputs"), script.get("delay", 0.0)) if isinstance(script, dict) else (script, 0.0)
    if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
        raise ModelLoadError(f"Scripted model {path} must hold a JSON list of strings")
    if not isinstance(delay, (int, float)) or delay < 0:
        raise ModelLoadError(f"Scripted model {path}: delay must be a non-negative number of seconds")
    if by_turn:
        def turn_output(messages: list) -> str:
            turn = turns_since_question(messages)
            if turn >= len(outputs):
                raise ValueError(f"no output for turn {turn + 1} (the script has {len(outputs)})")
            return outputs[turn]

        return ScriptedModel(turn_output, name=f"scripted-turns:{path.name}", delay=float(delay))
    return ScriptedModel(outputs, name=f"scripted:{path.name}", delay=float(delay))


def _resolve_installed(spec: str) -> object | None:
    """The hub's installed model of that name, or None where the hub cannot resolve it."""
    try:
        from rlm_desktop.hub.local import resolve_model
    except ImportError:
        if spec in {m.key for m in demo.DEMO_MODELS}:
            return None
        raise ModelNotFound(f"No model named {spec!r}: give a .gguf path, a server URL, or a demo model "
                            f"({', '.join(m.key for m in demo.DEMO_MODELS)})") from None
    return resolve_model(spec)


def model_file(spec: str) -> Path | None:
    """The GGUF file an in-process model spec names (a path, an installed name, a starter or demo key), else None."""
    spec = spec.strip()
    if spec.startswith(("http://", "https://", "scripted:", "scripted-turns:")):
        return None
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf" or path.is_file():
        return path if path.is_file() else None
    installed = _resolve_installed(spec)
    if installed is not None:
        return Path(installed.path)
    try:
        return demo.demo_model_path(spec, _models_dir())
    except (ModelNotFound, ModelLoadError):
        return None


def root_draft(choice: str, root_spec: str, sub_spec: str) -> str:
    """The draft mode a root decodes with: ``choice`` itself, or for ``auto`` the mode measured best for this
    root and sub (``backends.speculative.MEASURED_BEST``; ``none`` where nothing was measured to win)."""
    from rlm_desktop.backends.speculative import DRAFT_MODES, best_draft

    if choice in DRAFT_MODES:
        return choice  # anything else (a hand-edited settings file) means auto
    root, sub = model_file(root_spec), model_file(sub_spec)
    return best_draft(root.stem, sub.stem if sub else None) if root else "none"


def _llamacpp(path: Path, *, n_ctx: int | None, n_threads: int | None, n_gpu_layers: int,
              parallel: int, batching: bool, prompt_cache: bool, draft: str, draft_model: Path | None) -> LanguageModel:
    from rlm_desktop.backends.llamacpp import LlamaCppModel
    from rlm_desktop.settings import prompt_cache_dir

    try:
        return LlamaCppModel(path, n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers, parallel=parallel,
                             batching=batching, prompt_cache_dir=prompt_cache_dir() if prompt_cache else None,
                             draft=draft, draft_model=draft_model)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Could not load model {path.name}: {exc}") from exc


DEMO_ROOT_MAX_TOKENS = 256  # a demo root never writes a useful turn longer than this; keeps runs short


def engine_config(settings: "Settings", root_spec: str | None = None) -> "RLMConfig":
    """The engine configuration the user's settings describe: root turns kept short for a demo root, and
    the root model's prompt profile from its catalog entry."""
    from rlm_desktop.engine import RLMConfig
    from rlm_desktop.sandbox import SandboxLimits

    return RLMConfig(
        max_iterations=settings.max_iterations, max_sub_calls=settings.max_sub_calls,
        max_tokens=settings.max_tokens, max_seconds=settings.max_seconds, depth=settings.depth,
        parallel_sub_calls=settings.parallel_sub_calls, output_chars=settings.output_chars,
        grammar=settings.grammar, prompt_profile=prompt_profile(root_spec) if root_spec else "default",
        sandbox=SandboxLimits(timeout_s=settings.cell_timeout, memory_mb=settings.cell_memory_mb),
        **({"root_max_tokens": DEMO_ROOT_MAX_TOKENS} if root_spec and is_demo_model(root_spec) else {}),
    )
