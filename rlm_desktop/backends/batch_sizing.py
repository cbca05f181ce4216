"""How many sequences a batched context decodes at once: from the model's window and free memory."""

from __future__ import annotations


MAX_SEQUENCES = 16        # past this a CPU gains little and the KV cache keeps growing
KV_MEMORY_SHARE = 0.1     # of the memory available when the model loads
KV_MEMORY_CEILING = 1 << 30


def kv_bytes_per_token(metadata: dict[str, str]) -> int:
    """Bytes of f16 keys and values one token takes in every layer, from the GGUF metadata."""
    arch = metadata.get("general.architecture", "")

    def number(key: str, default: int = 0) -> int:
        try:
            return int(float(metadata[f"{arch}.{key}"]))
        except (KeyError, ValueError):
            return default

    layers = number("block_count", 32)
    heads = number("attention.head_count", 32)
    kv_heads = number("attention.head_count_kv", heads) or heads
    head_dim = number("embedding_length", 4096) // max(1, heads)
    key_length = number("attention.key_length", head_dim) or head_dim
    value_length = number("attention.value_length", head_dim) or head_dim
    return layers * kv_heads * (key_length + value_length) * 2


def choose_sequences(metadata: dict[str, str], window: int, *, available: int | None = None) -> int:
    """How many sequences of ``window`` tokens to decode together: as many KV caches as fit a share
    of the available memory (at most :data:`MAX_SEQUENCES`); 1 means batching is not worth it."""
    if available is None:
        import psutil

        available = psutil.virtual_memory().available
    budget = min(int(available * KV_MEMORY_SHARE), KV_MEMORY_CEILING)
    per_sequence = kv_bytes_per_token(metadata) * window
    return max(1, min(MAX_SEQUENCES, budget // max(1, per_sequence)))
