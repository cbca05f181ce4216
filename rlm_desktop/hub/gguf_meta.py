"""Read a GGUF file's header (magic, version, key/value metadata, tensor shapes) without loading tensors.

The file is memory-mapped and only the header pages are touched, so reading the
metadata of a 20 GB model costs a few megabytes of I/O (the tokenizer arrays).
Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlm_desktop.errors import NotGGUFError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)

# GGUF value types -> struct format (scalars); 8 = string, 9 = array.
_SCALAR_FORMATS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9

# llama.cpp's LLAMA_FTYPE enum (general.file_type) -> the usual quantization label.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M",
    18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S",
    25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M",
    32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
}

_QUANT_IN_NAME = re.compile(
    r"(?<![A-Za-z0-9])(UD-)?(IQ[1-4]_(?:XXS|XS|NL|S|M)|TQ[12]_0|Q[2-8]_K(?:_[SMLX]+)?|Q[4-8]_[01]|MXFP4(?:_MOE)?|BF16|F16|F32)"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


def quantization_from_filename(filename: str) -> str | None:
    """Quantization label in a GGUF file name (``Qwen2.5-7B-Q4_K_M.gguf`` -> ``Q4_K_M``), or None."""
    matches = _QUANT_IN_NAME.findall(Path(filename).name)
    if not matches:
        return None
    prefix, label = matches[-1]
    return (prefix + label).upper()


def shard_of(filename: str) -> tuple[int, int] | None:
    """(index, count) for split GGUF files named ``...-00001-of-00003.gguf``, else None."""
    match = _SHARD.search(filename)
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class GGUFMetadata:
    """What the app needs to know about a model file, read from its GGUF header."""

    path: Path
    version: int
    file_size: int
    architecture: str | None
    name: str | None
    file_type: int | None
    quantization: str | None
    parameter_count: int | None
    size_label: str | None
    context_length: int | None
    block_count: int | None
    embedding_length: int | None
    head_count: int | None
    head_count_kv: int | None
    key_length: int | None
    value_length: int | None
    chat_template: str | None
    tensor_count: int
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    """Every scalar/string key; arrays are summarised as ``<array of N>``."""

    @property
    def head_dim_k(self) -> int | None:
        if self.key_length:
            return self.key_length
        if self.embedding_length and self.head_count:
            return self.embedding_length // self.head_count
        return None

    @property
    def head_dim_v(self) -> int | None:
        return self.value_length or self.head_dim_k

    def kv_bytes_per_token(self, bytes_per_element: float = 2.0) -> int | None:
        """KV-cache bytes one token of context costs (f16 cache by default), or None if unknown."""
        kv_heads = self.head_count_kv or self.head_count
        if not (self.block_count and kv_heads and self.head_dim_k and self.head_dim_v):
            return None
        return int(self.block_count * kv_heads * (self.head_dim_k + self.head_dim_v) * bytes_per_element)


class _Reader:
    def __init__(self, buf: mmap.mmap | bytes, path: Path) -> None:
        self.buf = buf
        self.pos = 0
        self.path = path

    def _need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.buf):
            raise NotGGUFError(f"{self.path.name} is not a valid GGUF file: its header is truncated or corrupt.")

    def scalar(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self._need(size)
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def u32(self) -> int:
        return self.scalar("<I")

    def u64(self) -> int:
        return self.scalar("<Q")

    def string(self) -> str:
        length = self.u64()
        self._need(length)
        raw = self.buf[self.pos:self.pos + length]
        self.pos += length
        return bytes(raw).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.u64()
        self._need(length)
        self.pos += length

    def value(self, vtype: int, keep_arrays: bool = False) -> Any:
        if vtype in _SCALAR_FORMATS:
            return self.scalar(_SCALAR_FORMATS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = self.u32()
            count = self.u64()
            if keep_arrays and count <= 4096:
                return [self.value(item_type) for _ in range(count)]
            if item_type in _SCALAR_FORMATS:  # skip without decoding (tokenizer scores, token types)
                size = struct.calcsize(_SCALAR_FORMATS[item_type]) * count
                self._need(size)
                self.pos += size
            elif item_type == _STRING:  # tokenizer vocabularies: 100k+ strings
                for _ in range(count):
                    self.skip_string()
            else:
                for _ in range(count):
                    self.value(item_type)
            return f"<array of {count}>"
        raise NotGGUFError(f"{self.path.name} is not a valid GGUF file: unknown value type {vtype}.")


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return max(value)  # per-layer values (e.g. head_count_kv on hybrid models): plan for the largest
    return None


def read_gguf_metadata(path: str | Path) -> GGUFMetadata:
    """Parse the GGUF header of ``path``; raise NotGGUFError naming the file if it is not GGUF."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotGGUFError(f"Cannot read model file {path}: {exc.strerror or exc}") from exc
    if size < 24:
        raise NotGGUFError(f"{path.name} is not a GGUF model file (only {size} bytes).")
    try:
        with path.open("rb") as handle:
            if handle.read(4) != GGUF_MAGIC:
                raise NotGGUFError(f"{path.name} is not a GGUF model file (wrong magic bytes).")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(_Reader(buf, path), path, size)
    except OSError as exc:
        raise NotGGUFError(f"Cannot read model file {path}: {exc.strerror or exc}") from exc


def _parse(reader: _Reader, path: Path, size: int) -> GGUFMetadata:
    reader.pos = 4
    version = reader.u32()
    if version not in SUPPORTED_VERSIONS:
        raise NotGGUFError(f"{path.name} uses GGUF version {version}; supported versions are 2 and 3.")
    tensor_count = reader.u64()
    kv_count = reader.u64()
    if kv_count > 1_000_000 or tensor_count > 10_000_000:
        raise NotGGUFError(f"{path.name} is not a valid GGUF file: implausible header counts.")
    values: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string()
        vtype = reader.u32()
        values[key] = reader.value(vtype, keep_arrays=key.endswith(".head_count_kv") or key.endswith(".head_count"))
    parameter_count = 0
    for _ in range(tensor_count):
        reader.skip_string()  # tensor name
        n_dims = reader.u32()
        if n_dims > 8:
            raise NotGGUFError(f"{path.name} is not a valid GGUF file: tensor with {n_dims} dimensions.")
        elements = 1
        for _ in range(n_dims):
            elements *= reader.u64()
        reader.u32()  # ggml type
        reader.u64()  # data offset
        parameter_count += elements

    arch = values.get("general.architecture")
    arch = arch if isinstance(arch, str) else None

    def arch_key(suffix: str) -> Any:
        return values.get(f"{arch}.{suffix}") if arch else None

    file_type = _int_or_none(values.get("general.file_type"))
    quantization = FILE_TYPES.get(file_type) if file_type is not None else None
    quantization = quantization or quantization_from_filename(path.name)
    name = values.get("general.name")
    template = values.get("tokenizer.chat_template")
    size_label = values.get("general.size_label")
    return GGUFMetadata(
        path=path,
        version=version,
        file_size=size,
        architecture=arch,
        name=name if isinstance(name, str) else None,
        file_type=file_type,
        quantization=quantization,
        parameter_count=parameter_count or None,
        size_label=size_label if isinstance(size_label, str) else None,
        context_length=_int_or_none(arch_key("context_length")),
        block_count=_int_or_none(arch_key("block_count")),
        embedding_length=_int_or_none(arch_key("embedding_length")),
        head_count=_int_or_none(arch_key("attention.head_count")),
        head_count_kv=_int_or_none(arch_key("attention.head_count_kv")),
        key_length=_int_or_none(arch_key("attention.key_length")),
        value_length=_int_or_none(arch_key("attention.value_length")),
        chat_template=template if isinstance(template, str) else None,
        tensor_count=tensor_count,
        values={k: v for k, v in values.items() if not isinstance(v, list)},
    )


def format_parameter_count(count: int | None) -> str:
    """``135_000_000`` -> ``135M``; ``7_600_000_000`` -> ``7.6B``."""
    if not count:
        return "?"
    if count >= 1e9:
        return f"{count / 1e9:.1f}B"
    return f"{count / 1e6:.0f}M"
