"""The models used when the user has chosen none.

Its own module, importing only the pair's and the demo models' definitions, so that ``settings``
(which every layer reads) and the faces can both ask for the default without importing the registry
or ``runtime``.
"""

from __future__ import annotations

from rlm_desktop.hub.demo import SMOLLM2
from rlm_desktop.hub.starter import STARTER_ROOT, STARTER_SUB, starter_installed

DEFAULT_ROOT = STARTER_ROOT.key
DEFAULT_SUB = STARTER_SUB.key
FALLBACK_ROOT = SMOLLM2.key
FALLBACK_SUB = SMOLLM2.key


def default_models() -> tuple[str, str]:
    """(root, sub) specs used when the user has chosen none: the starter pair (Qwen2.5-Coder 1.5B root,
    0.5B sub) when its PyPI part packages are installed, else SmolLM2 as both."""
    if starter_installed():
        return DEFAULT_ROOT, DEFAULT_SUB
    return FALLBACK_ROOT, FALLBACK_SUB
