"""`rlm eval run` through the CLI with the real demo model."""

from __future__ import annotations

import json

import pytest

from rlm_desktop.cli import main
from rlm_desktop.settings import prompt_cache_dir


@pytest.mark.slow
def test_eval_run_with_prompt_cache_keeps_the_roots_prompt_states(tmp_path, smollm2_path, monkeypatch):
    monkeypatch.setenv("RLM_DESKTOP_HOME", str(tmp_path / "home"))  # an empty prompt cache, run after run
    out = tmp_path / "grid"
    assert not prompt_cache_dir().exists()
    code = main([
        "eval", "run", "--task", "sniah", "--lengths", "1k", "--methods", "rlm", "--root", str(smollm2_path),
        "--sub", str(smollm2_path), "--seeds", "1", "--max-iterations", "1", "--root-max-tokens", "16",
        "--n-ctx", "4096", "--threads", "2", "--prompt-cache", "--out", str(out), "--no-report"])
    assert code == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["method"] == "rlm"
    assert any(path.is_file() for path in prompt_cache_dir().rglob("*"))  # the first root prompt's state was saved
