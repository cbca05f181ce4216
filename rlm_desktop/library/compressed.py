"""Single compressed files (gzip, bzip2, xz): streamed into a private temporary file, with limits."""

from __future__ import annotations

import hashlib
import lzma
import zlib
from pathlib import Path
from typing import Callable

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library.archive import ArchiveLimits
from rlm_desktop.library.extract import COMPRESSED_SUFFIXES
from rlm_desktop.library.sniff import COMPRESSED
from rlm_desktop.sizes import document_size


def inner_name(name: str) -> str:
    """The name of what a compressed file holds: 'changelog.gz' -> 'changelog' (kept when no suffix says)."""
    for suffix in COMPRESSED_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix) and not name.endswith("/" + suffix):
            return name[:-len(suffix)]
    return name


def decompress_file(path: Path, fmt: str, target: Path, *, max_bytes: int, limits: ArchiveLimits,
                    cancelled: Callable[[], bool] = lambda: False) -> tuple[str, int]:
    """Stream the content of ``path`` into ``target``; returns (sha256, bytes). Raises ExtractionError."""
    packed = max(1, path.stat().st_size)
    digest = hashlib.sha256()
    written = 0
    try:
        with COMPRESSED[fmt][1](path, "rb") as source, target.open("wb") as out:  # type: ignore[operator]
            while chunk := source.read(1 << 20):
                if cancelled():
                    raise ExtractionError("cancelled")
                written += len(chunk)
                if written > max_bytes:
                    raise ExtractionError(f"refused, it unpacks to more than {document_size(max_bytes)}")
                if written > limits.ratio_floor_bytes and written / packed > limits.max_ratio:
                    raise ExtractionError(f"refused, it unpacks to more than {document_size(written)} from "
                                          f"{document_size(packed)} (compression ratio over "
                                          f"{limits.max_ratio:.0f}:1, zip bomb?)")
                digest.update(chunk)
                out.write(chunk)
    except ExtractionError:
        raise
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise ExtractionError(f"damaged {fmt} file ({exc})") from exc
    return digest.hexdigest(), written
