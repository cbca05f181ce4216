"""Model files shipped as PyPI part packages: found without importing, assembled once, verified, never
used when wrong. Synthetic part packages are generated in the test's temp dir and put on sys.path."""

from __future__ import annotations

import errno
import hashlib
import importlib
import json
import os
import shutil
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from rlm_desktop.errors import AssemblyChecksumMismatch, NotEnoughDiskSpace, PartPackageMissing
from rlm_desktop.hub import parts
from rlm_desktop.hub.parts import PartedFile, assemble, ensure_file, is_verified, marker_path, parts_installed


Parted = namedtuple("Parted", "spec site data target")


@pytest.fixture
def parted(tmp_path: Path, make_part_packages, request: pytest.FixtureRequest) -> Parted:
    """Three synthetic parts of a 300 KB file, on sys.path, and a target in a models dir."""
    chunks = [os.urandom(120_000), os.urandom(120_000), os.urandom(60_000)]
    data = b"".join(chunks)
    distribution = f"synth-{abs(hash(request.node.name)) % 10**8}-part"
    site = make_part_packages(distribution, chunks)
    spec = PartedFile(title="Synthetic model", distribution=distribution, version="1.0", parts=3,
                      size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    return Parted(spec, site, data, tmp_path / "models" / "org--repo" / "model.gguf")


def leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.glob("*")) if target.parent.is_dir() else []


def test_assembles_the_parts_in_order_verifies_and_never_imports_them(parted: Parted) -> None:
    seen = []
    path = ensure_file(parted.spec, parted.target, on_progress=seen.append)
    assert path == parted.target and path.read_bytes() == parted.data
    assert is_verified(path, parted.spec)
    assert json.loads(marker_path(path).read_text())["sha256"] == parted.spec.sha256
    assert seen[-1].phase == "done" and seen[-1].fraction == 1.0
    assert leftovers(parted.target) == ["model.gguf", "model.gguf.verified"]  # no partial left behind
    assert not any(name.startswith(parted.spec.distribution.replace("-", "_")) for name in sys.modules)


def test_a_verified_file_is_used_without_the_parts_or_rehashing(parted: Parted) -> None:
    ensure_file(parted.spec, parted.target)
    shutil.rmtree(parted.site)  # parts gone: a verified file needs neither them nor a new hash
    importlib.invalidate_caches()
    seen = []
    assert ensure_file(parted.spec, parted.target, on_progress=seen.append) == parted.target
    assert seen == []


def test_a_file_already_in_place_is_hashed_once_then_trusted(parted: Parted) -> None:
    parted.target.parent.mkdir(parents=True)
    parted.target.write_bytes(parted.data)  # e.g. a hub download of the same file
    assert not is_verified(parted.target, parted.spec)
    seen = []
    ensure_file(parted.spec, parted.target, on_progress=seen.append)
    assert is_verified(parted.target, parted.spec) and seen[-1].phase == "done"


def test_a_changed_file_is_reassembled_from_the_parts(parted: Parted) -> None:
    ensure_file(parted.spec, parted.target)
    damaged = bytearray(parted.data)
    damaged[1000] ^= 0xFF
    parted.target.write_bytes(bytes(damaged))  # same size, new mtime: the marker no longer vouches for it
    assert not is_verified(parted.target, parted.spec)
    ensure_file(parted.spec, parted.target)
    assert parted.target.read_bytes() == parted.data and is_verified(parted.target, parted.spec)


def test_a_sha256_mismatch_is_an_error_and_leaves_no_file(parted: Parted) -> None:
    wrong = parted.spec.__class__(**{**parted.spec.__dict__, "sha256": "0" * 64})
    with pytest.raises(AssemblyChecksumMismatch, match="does not match") as caught:
        ensure_file(wrong, parted.target)
    assert parted.spec.sha256 in str(caught.value) and "0" * 64 in str(caught.value)
    assert leftovers(parted.target) == []


def test_a_mismatch_keeps_the_file_that_was_there_unverified(parted: Parted) -> None:
    parted.target.parent.mkdir(parents=True)
    parted.target.write_bytes(b"old")
    wrong = parted.spec.__class__(**{**parted.spec.__dict__, "sha256": "0" * 64})
    with pytest.raises(AssemblyChecksumMismatch):
        ensure_file(wrong, parted.target)
    assert parted.target.read_bytes() == b"old" and not marker_path(parted.target).exists()


def test_parts_of_the_wrong_size_are_refused_before_writing(parted: Parted) -> None:
    bigger = parted.spec.__class__(**{**parted.spec.__dict__, "size_bytes": parted.spec.size_bytes + 1})
    with pytest.raises(AssemblyChecksumMismatch, match="wrong version"):
        assemble(bigger, parted.target)
    assert leftovers(parted.target) == []


def test_a_missing_part_names_the_package_and_the_pip_command(parted: Parted) -> None:
    shutil.rmtree(parted.site / f"{parted.spec.distribution}2".replace("-", "_"))
    importlib.invalidate_caches()
    assert not parts_installed(parted.spec)
    with pytest.raises(PartPackageMissing) as caught:
        ensure_file(parted.spec, parted.target)
    message = str(caught.value)
    assert f"{parted.spec.distribution}2 is not installed" in message
    assert f"pip install '{parted.spec.distribution}2==1.0'" in message
    assert f"{parted.spec.distribution}1" not in message.replace(f"{parted.spec.distribution}1=", "")
    assert leftovers(parted.target) == []


def test_an_interrupted_assembly_leaves_nothing_that_passes_for_the_file(parted: Parted,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts, "PROGRESS_EVERY", 50_000)

    class Interrupted(Exception):
        pass

    def stop_midway(progress: parts.AssemblyProgress) -> None:
        if progress.phase == "assembling":
            raise Interrupted

    with pytest.raises(Interrupted):
        ensure_file(parted.spec, parted.target, on_progress=stop_midway)
    assert leftovers(parted.target) == []
    # a partial left by a process that died mid-way is cleaned up by the next assembly
    stale = parted.target.with_name(f"{parted.target.name}.999999999.partial")
    stale.write_bytes(parted.data[:1000])
    assert ensure_file(parted.spec, parted.target).read_bytes() == parted.data
    assert leftovers(parted.target) == ["model.gguf", "model.gguf.verified"]


def test_a_full_disk_is_a_clear_error(parted: Parted, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.disk_usage
    usage = real(parted.site)
    monkeypatch.setattr(parts.shutil, "disk_usage", lambda path: usage._replace(free=parted.spec.size_bytes // 2))
    with pytest.raises(NotEnoughDiskSpace, match="Not enough disk space to assemble Synthetic model"):
        ensure_file(parted.spec, parted.target)
    monkeypatch.setattr(parts.shutil, "disk_usage", real)
    monkeypatch.setattr(parts, "PROGRESS_EVERY", 50_000)

    def disk_fills(progress: parts.AssemblyProgress) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(NotEnoughDiskSpace, match="disk filled up"):
        ensure_file(parted.spec, parted.target, on_progress=disk_fills)
    assert leftovers(parted.target) == []
