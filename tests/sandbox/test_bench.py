"""The benchmark helpers `rlm bench core` calls (figures only; no timing assertions)."""

from __future__ import annotations

from rlm_desktop.sandbox.bench import cell_latency_ms, make_context


def test_make_context_has_the_requested_size() -> None:
    assert len(make_context(12_345)) == 12_345


def test_cell_latency_is_measured() -> None:
    assert cell_latency_ms(10_000, cells=3) > 0
