"""`rlm bench ...`: benchmark scripts that print figures (never timed assertions).

Each area registers its own sub-command on :data:`bench` (``core`` for the RLM
engine and backends, ``library`` for ingest and search).
"""

from __future__ import annotations

import click

from rlm_desktop.cli import cli


@cli.group()
def bench() -> None:
    """Measure speed and memory; prints figures."""
