"""Byte counts as people read them; one place for both faces (CLI and GUI).

Documents are shown in binary units (KB = 1024 bytes), as file managers do; model files
in decimal units (GB = 10^9 bytes), as the Hugging Face hub and our catalog list them.
"""

from __future__ import annotations


def document_size(n: int) -> str:
    """``944 bytes``, ``3.0 KB``, ``1.2 MB`` (binary units)."""
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


def model_size(n: int | None) -> str:
    """``4.68 GB``, ``98 MB``, ``512 KB`` (decimal units), ``?`` when unknown."""
    if n is None:
        return "?"
    if n >= 10**9:
        return f"{n / 1e9:.2f} GB"
    if n >= 10**6:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e3:.0f} KB"
