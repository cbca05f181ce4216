"""GGUF header parsing on the real demo models, and rejection of files that are not GGUF."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_desktop.errors import NotGGUFError
from rlm_desktop.hub.gguf_meta import quantization_from_filename, read_gguf_metadata, shard_of


def test_smollm2_metadata(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    assert meta.architecture == "llama"
    assert meta.context_length == 8192
    assert meta.quantization == "Q4_1"
    assert meta.block_count == 30
    assert meta.head_count == 9 and meta.head_count_kv == 3
    assert 130_000_000 < meta.parameter_count < 140_000_000
    assert "<|im_start|>" in meta.chat_template
    assert meta.file_size == smollm2_path.stat().st_size
    # 30 layers x 3 KV heads x (64 + 64) dims x 2 bytes
    assert meta.kv_bytes_per_token() == 30 * 3 * 128 * 2


def test_gemma3_metadata(gemma3_path: Path) -> None:
    meta = read_gguf_metadata(gemma3_path)
    assert meta.architecture == "gemma3"
    assert meta.context_length == 32768
    assert meta.quantization == "Q4_K_M"
    assert meta.block_count == 18
    assert meta.key_length == 256
    assert 260_000_000 < meta.parameter_count < 280_000_000


def test_text_file_renamed_gguf_is_rejected_naming_the_file(tmp_path: Path) -> None:
    fake = tmp_path / "contract-notes.gguf"
    fake.write_text("These are meeting notes, not a model.\n" * 10)
    with pytest.raises(NotGGUFError, match="contract-notes.gguf"):
        read_gguf_metadata(fake)


def test_truncated_gguf_is_rejected(tmp_path: Path, smollm2_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(smollm2_path.read_bytes()[:5000])
    with pytest.raises(NotGGUFError, match="cut.gguf.*truncated"):
        read_gguf_metadata(cut)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotGGUFError, match="nothing.gguf"):
        read_gguf_metadata(tmp_path / "nothing.gguf")


@pytest.mark.parametrize("name, label", [
    ("Qwen2.5-Coder-7B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
    ("qwen2.5-1.5b-instruct-q8_0.gguf", "Q8_0"),
    ("Qwen3-Coder-30B-A3B-Instruct-UD-Q4_K_XL.gguf", "UD-Q4_K_XL"),
    ("model.IQ4_XS.gguf", "IQ4_XS"),
    ("gemma-3-270m-it-BF16.gguf", "BF16"),
    ("README.gguf", None),
])
def test_quantization_from_filename(name: str, label: str | None) -> None:
    assert quantization_from_filename(name) == label


def test_shard_detection() -> None:
    assert shard_of("Qwen2.5-Coder-32B-Instruct-Q8_0-00002-of-00003.gguf") == (2, 3)
    assert shard_of("model-Q4_K_M.gguf") is None
