"""User settings and per-OS data/cache directories.

``RLM_DESKTOP_HOME`` overrides the data directory (tests and portable installs use it).
Settings are a small JSON file in the data dir; unknown keys are kept, bad values
fall back to defaults so a hand-edited file never stops the app from starting.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

APP_NAME = "rlm-desktop"


def data_dir() -> Path:
    """Per-user data directory (library database, models, logs), created on demand."""
    override = os.environ.get("RLM_DESKTOP_HOME")
    if override:
        base = Path(override)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / APP_NAME
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / APP_NAME
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / APP_NAME
    base.mkdir(parents=True, exist_ok=True)
    return base


def models_dir() -> Path:
    """Where downloaded and imported GGUF files live."""
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def prompt_cache_dir() -> Path:
    """Where root models keep evaluated prompt states between app starts (safe to delete)."""
    return data_dir() / "prompt-cache"


def library_path() -> Path:
    """Default library database file."""
    return data_dir() / "library.db"


def log_path() -> Path:
    path = data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path / "rlm-desktop.log"


@dataclass
class Settings:
    """What the user can change; every face reads and writes the same file."""

    root_model: str = "demo-smollm2-135m"
    sub_model: str = "demo-smollm2-135m"
    max_iterations: int = 12
    max_sub_calls: int = 200
    max_tokens: int = 2_000_000
    max_seconds: float = 1800.0
    depth: int = 1
    parallel_sub_calls: int = 4
    output_chars: int = 4000
    cell_timeout: float = 60.0
    cell_memory_mb: int = 2048
    grammar: bool = True

    @classmethod
    def load(cls, path: Path | None = None) -> "Settings":
        path = path or data_dir() / "settings.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        defaults = cls()
        values = {}
        for f in fields(cls):
            if f.name in raw and isinstance(raw[f.name], type(getattr(defaults, f.name))):
                values[f.name] = raw[f.name]
        return cls(**values)

    def save(self, path: Path | None = None) -> None:
        path = path or data_dir() / "settings.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.replace(path)
