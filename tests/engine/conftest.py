"""Fixtures of the engine tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def pair(starter_pair):
    """The starter pair loaded as the app loads it (root 16K window, sub serving two calls at once)."""
    from rlm_desktop.backends.llamacpp import LlamaCppModel

    root_path, sub_path = starter_pair
    root = LlamaCppModel(root_path, n_ctx=16384, n_threads=2)
    sub = LlamaCppModel(sub_path, n_ctx=8192, n_threads=2, parallel=2)
    yield root, sub
    root.close()
    sub.close()
