"""Evaluated prompt states that outlive a run: in memory while the app runs, on disk between starts.

After a root model evaluates a long prompt from scratch (the system prompt and a
collection's description), the KV cache of that prompt is saved with its tokens.
A later prompt of the same model that shares a long prefix with a saved one loads that
state and evaluates only from where the two differ (the question). Entries are grouped
by a key over the model file's identity (path, size, mtime) and the load settings that
change the evaluated state, so a changed model or setting never reuses a stale state;
a changed prompt simply shares a shorter prefix.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MEMORY_BYTES = 512 << 20  # states kept in memory across all models
DISK_BYTES = 2 << 30      # states kept on disk across all models


@dataclass(frozen=True)
class SavedPrompt:
    """One saved state: the prompt tokens it holds and where its bytes live."""

    key: str
    tokens: np.ndarray


def model_key(path: Path, settings: dict[str, Any]) -> str:
    """Identity of a model file and the settings that shape its evaluated state."""
    stat = path.stat()
    identity = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, **settings}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


class _MemoryStates:
    """The process-wide LRU of state bytes, shared by every model object (survives model reloads)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._states: OrderedDict[tuple[str, str], tuple[np.ndarray, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def entries(self, model: str) -> list[SavedPrompt]:
        with self._lock:
            return [SavedPrompt(key, tokens) for (m, key), (tokens, _) in self._states.items() if m == model]

    def get(self, model: str, key: str) -> bytes | None:
        with self._lock:
            held = self._states.get((model, key))
            if held is None:
                return None
            self._states.move_to_end((model, key))
            return held[1]

    def put(self, model: str, key: str, tokens: np.ndarray, state: bytes) -> None:
        with self._lock:
            self._states[(model, key)] = (tokens, state)
            self._states.move_to_end((model, key))
            while sum(len(s) for _, s in self._states.values()) > self.limit and len(self._states) > 1:
                self._states.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()


MEMORY = _MemoryStates(MEMORY_BYTES)


class PromptStateCache:
    """Saved prompt states of one model (key), looked up by the longest shared token prefix."""

    def __init__(self, directory: Path | None, key: str, *, disk_bytes: int = DISK_BYTES) -> None:
        self.key = key
        self.root = directory
        self.directory = directory / key if directory is not None else None
        self.disk_bytes = disk_bytes
        self._disk: dict[str, SavedPrompt] = {}
        if self.directory is not None and self.directory.is_dir():
            for path in self.directory.glob("*.tokens.npy"):
                try:
                    tokens = np.load(path)
                except (OSError, ValueError):
                    continue
                name = path.name.removesuffix(".tokens.npy")
                if (self.directory / f"{name}.state").is_file():
                    self._disk[name] = SavedPrompt(name, tokens)

    def best(self, tokens: list[int]) -> tuple[int, SavedPrompt] | None:
        """The saved prompt sharing the longest prefix with ``tokens``, and that length."""
        candidates = {p.key: p for p in self._disk.values()}
        candidates.update({p.key: p for p in MEMORY.entries(self.key)})
        best: tuple[int, SavedPrompt] | None = None
        wanted = np.asarray(tokens, dtype=np.int64)
        for saved in candidates.values():
            shared = _common(saved.tokens, wanted)
            if shared and (best is None or shared > best[0]):
                best = (shared, saved)
        return best

    def load(self, saved: SavedPrompt) -> bytes | None:
        """The state bytes of ``saved`` (from memory, else from disk), or None if they are gone."""
        state = MEMORY.get(self.key, saved.key)
        if state is not None or self.directory is None:
            return state
        path = self.directory / f"{saved.key}.state"
        try:
            state = path.read_bytes()
            path.touch()
        except OSError:
            self._disk.pop(saved.key, None)
            return None
        MEMORY.put(self.key, saved.key, saved.tokens, state)
        return state

    def store(self, tokens: list[int], state: bytes) -> None:
        """Keep ``state`` (the evaluated ``tokens``) in memory now and write it to disk in the background."""
        array = np.asarray(tokens, dtype=np.int32)
        name = hashlib.sha256(array.tobytes()).hexdigest()[:24]
        MEMORY.put(self.key, name, array, state)
        if self.directory is not None:
            threading.Thread(target=self._write, args=(name, array, state), name="rlm-prompt-cache",
                             daemon=False).start()

    def _write(self, name: str, tokens: np.ndarray, state: bytes) -> None:
        assert self.directory is not None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            state_path = self.directory / f"{name}.state"
            tmp = state_path.with_suffix(".tmp")
            tmp.write_bytes(state)
            tmp.replace(state_path)
            tokens_tmp = self.directory / f"{name}.tokens.tmp.npy"
            np.save(tokens_tmp, tokens)
            tokens_tmp.replace(self.directory / f"{name}.tokens.npy")
            self._disk[name] = SavedPrompt(name, tokens)
            self._prune()
        except OSError:
            pass  # a cache that cannot be written only costs time

    def _prune(self) -> None:
        """Drop the least recently used states (of any model) beyond the disk budget."""
        assert self.root is not None
        states = sorted(self.root.glob("*/*.state"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in states)
        for path in states:
            if total <= self.disk_bytes or len(states) <= 1:
                break
            total -= path.stat().st_size
            name = path.name.removesuffix(".state")
            path.unlink(missing_ok=True)
            (path.parent / f"{name}.tokens.npy").unlink(missing_ok=True)
            if path.parent == self.directory:
                self._disk.pop(name, None)


def _common(saved: np.ndarray, wanted: np.ndarray) -> int:
    n = min(len(saved), len(wanted))
    if n == 0:
        return 0
    diff = np.nonzero(saved[:n] != wanted[:n])[0]
    return int(diff[0]) if len(diff) else n


RESTORE_MIN_TOKENS = 32  # load a saved state only when it spares at least this many tokens
SAVE_MIN_TOKENS = 64     # save a prompt's state only when this many (and a tenth of it) were evaluated afresh


def restore_prompt(llama: Any, tokens: list[int], cache: PromptStateCache, kv_shared: int) -> int:
    """Load the saved state sharing the longest prefix with ``tokens`` into ``llama`` (sequence 0)
    when it beats the ``kv_shared`` tokens its cache holds already; returns the tokens restored (0: none)."""
    import ctypes

    import llama_cpp

    from rlm_desktop.backends.llama_generation import aligned

    found = cache.best(tokens)
    if found is None:
        return 0
    shared = aligned(min(found[0], len(tokens) - 1))  # what prefill() will reuse of it
    if shared < kv_shared + RESTORE_MIN_TOKENS:
        return 0
    state = cache.load(found[1])
    if state is None:
        return 0
    llama._ctx.kv_cache_clear()
    llama.n_tokens = 0
    data = ctypes.cast(ctypes.c_char_p(state), ctypes.POINTER(ctypes.c_uint8))
    if llama_cpp.llama_state_seq_set_data(llama.ctx, data, len(state), 0) == 0:
        llama._ctx.kv_cache_clear()  # an unreadable state: evaluate from scratch
        return 0
    saved = found[1].tokens
    llama.input_ids[: len(saved)] = saved
    llama.n_tokens = len(saved)
    return shared


def should_save(prompt_tokens: int, evaluated: int) -> bool:
    """Worth saving: the prompt was mostly evaluated afresh (a new system prompt or collection)."""
    return evaluated >= max(SAVE_MIN_TOKENS, prompt_tokens // 10)


def save_prompt(llama: Any, tokens: list[int], cache: PromptStateCache) -> None:
    """Save the state of sequence 0 of ``llama``, which holds exactly ``tokens``."""
    import ctypes

    import llama_cpp

    size = llama_cpp.llama_state_seq_get_size(llama.ctx, 0)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(llama.ctx, buffer, size, 0)
    if written:
        cache.store(tokens, ctypes.string_at(buffer, written))
