from __future__ import annotations

from pathlib import Path

from rlm_desktop.library import Library

SETTINGS = {"temperature": 0.0, "max_tokens": 512}


def test_repeated_get_is_a_hit_and_counted(library: Library):
    cache = library.sub_call_cache
    assert cache.get("sha256:abc", "Summarise page 1", SETTINGS) is None
    cache.put("sha256:abc", "Summarise page 1", SETTINGS, "A lease.")
    assert cache.get("sha256:abc", "Summarise page 1", SETTINGS) == "A lease."
    assert cache.get("sha256:abc", "Summarise page 1", dict(reversed(SETTINGS.items()))) == "A lease."
    assert cache.stats() == {"entries": 1, "hits": 2}


def test_key_covers_model_prompt_and_settings(library: Library):
    cache = library.sub_call_cache
    cache.put("model-a", "prompt", SETTINGS, "answer")
    assert cache.get("model-b", "prompt", SETTINGS) is None
    assert cache.get("model-a", "prompt ", SETTINGS) is None
    assert cache.get("model-a", "prompt", {**SETTINGS, "temperature": 0.7}) is None


def test_cache_survives_reopening_and_can_be_cleared(tmp_path: Path):
    with Library.open(tmp_path / "lib.db") as lib:
        lib.sub_call_cache.put("m", "p", {}, "a")
    with Library.open(tmp_path / "lib.db") as lib:
        assert lib.sub_call_cache.get("m", "p", {}) == "a"
        assert lib.clear_cache() == 1
        assert lib.sub_call_cache.get("m", "p", {}) is None


def test_model_id_is_the_file_hash(library: Library, tmp_path: Path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + b"\1" * 1000)
    renamed = tmp_path / "renamed.gguf"
    renamed.write_bytes(model.read_bytes())
    first = library.sub_call_cache.model_id_for_file(model)
    assert first.startswith("sha256:") and len(first) == 7 + 64
    assert library.sub_call_cache.model_id_for_file(renamed) == first
    model.write_bytes(b"GGUF" + b"\2" * 1001)
    assert library.sub_call_cache.model_id_for_file(model) != first
