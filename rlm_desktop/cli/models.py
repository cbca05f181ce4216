"""`rlm models ...`: a thin face over rlm_desktop.hub (catalog, downloads, local models, fit)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from rlm_desktop.cli import cli
from rlm_desktop.errors import HubError
from rlm_desktop.hub.catalog import load_catalog, model_fit_label
from rlm_desktop.hub.download import DownloadProgress, list_gguf_files
from rlm_desktop.hub.gguf_meta import format_parameter_count
from rlm_desktop.hub.local import (
    ModelRegistry, import_model, installed_models, metadata_for, remove_model, resolve_model, set_model_settings,
)
from rlm_desktop.hub.memory import (
    GiB, MachineMemory, ModelFootprint, fit_label, machine_memory, plan_models, with_fake_memory,
)
from rlm_desktop.hub.pull import pull_model
from rlm_desktop.sizes import model_size


def _machine(ram_gb: float | None, vram_gb: float | None) -> MachineMemory:
    machine = machine_memory()
    if ram_gb is not None or vram_gb is not None:
        machine = with_fake_memory(machine, int((ram_gb or machine.total_ram / GiB) * GiB),
                                   int(vram_gb * GiB) if vram_gb is not None else None)
    return machine


def _machine_line(machine: MachineMemory) -> str:
    return f"This machine: {machine.total_ram / GiB:.1f} GiB RAM. {machine.gpu.describe()}"


what_if = [
    click.option("--ram-gb", type=float, help="Plan for a machine with this much RAM instead."),
    click.option("--vram-gb", type=float, help="Plan for a GPU with this much VRAM instead."),
]


def _what_if(func):  # type: ignore[no-untyped-def]
    for option in reversed(what_if):
        func = option(func)
    return func


@cli.group()
def models() -> None:
    """Catalog, downloads and local GGUF models."""


@models.command("list")
@_what_if
def list_models(ram_gb: float | None, vram_gb: float | None) -> None:
    """Recommended root/sub pairs, catalog models and installed models, with fit labels."""
    machine = _machine(ram_gb, vram_gb)
    catalog = load_catalog()
    registry = ModelRegistry()
    installed = installed_models(registry)
    installed_names = {m.name for m in installed}
    click.echo(_machine_line(machine))
    best = catalog.recommend(machine)
    click.echo(f"Recommended pair: {best.tier} (root {best.root}, sub {best.sub})\n")
    click.echo("Pairs (root + sub loaded together):")
    for pair in catalog.pairs:
        plan = catalog.plan_pair(pair, machine)
        mark = "*" if pair is best else " "
        click.echo(f" {mark} {pair.tier:<24} {plan.label:<10} root {pair.root} ({pair.root_ctx // 1024}k ctx), "
                   f"sub {pair.sub} ({pair.sub_ctx // 1024}k ctx)")
        click.echo(f"   {'':<24} {plan.summary()}")
    click.echo("\nCatalog models (fit alone at an 8k context):")
    for model in catalog.models.values():
        state = "installed" if model.key in installed_names else ("demo" if model.demo else "not downloaded")
        click.echo(f"   {model.key:<38} {model_size(model.size_bytes):>9}  {model_fit_label(model, machine):<10} "
                   f"{state:<15} {model.license}")
    extra = [m for m in installed if m.name not in catalog.models]
    if extra:
        click.echo("\nOther installed models:")
        for model in extra:
            label = _installed_label(model, machine)
            click.echo(f"   {model.name:<38} {model_size(model.size_bytes or _file_size(model.path)):>9}  {label:<10} "
                       f"{model.quantization or '?':<8} {model.source}")


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _installed_label(model, machine: MachineMemory) -> str:  # type: ignore[no-untyped-def]
    try:
        meta = metadata_for(model)
    except HubError:
        return "missing"
    footprint = ModelFootprint.from_metadata(model.name, meta)
    return plan_models(footprint, model.n_ctx or min(8192, meta.context_length or 8192), None, 0, machine).label


@models.command("files")
@click.argument("repo")
@click.option("--revision", default="main", show_default=True)
@click.option("--token", envvar="HF_TOKEN", help="Hugging Face access token for gated repos (or HF_TOKEN).")
@_what_if
def files(repo: str, revision: str, token: str | None, ram_gb: float | None, vram_gb: float | None) -> None:
    """List a hub repo's GGUF files with sizes, quantization and fit labels."""
    machine = _machine(ram_gb, vram_gb)
    found = list_gguf_files(repo, revision=revision, token=token)
    if not found:
        click.echo(f"{repo} has no .gguf files.")
        return
    click.echo(_machine_line(machine))
    for remote in found:
        label = fit_label(remote.size, machine.total_ram) if remote.size else "?"
        shard = f"  part {remote.shard[0]}/{remote.shard[1]}" if remote.shard else ""
        click.echo(f"  {remote.filename:<60} {remote.quantization or '?':<10} {model_size(remote.size):>9}  "
                   f"{label} (weights only){shard}")
    click.echo(f"\nDownload one with: rlm models pull {repo} FILE")


class _ProgressLine:
    """A one-line progress bar on stderr: percent, bytes, rate and ETA."""

    def __init__(self) -> None:
        self.width = min(30, max(10, shutil.get_terminal_size((80, 20)).columns - 60))
        self.shown = False

    def __call__(self, p: DownloadProgress) -> None:
        if p.phase == "checking":
            text = f"Checking the partial download: {model_size(p.done)}"
        elif p.phase == "verifying":
            text = "Verifying sha256..."
        elif p.phase == "done":
            text = f"Downloaded {p.filename} ({model_size(p.done)})."
        else:
            fraction = p.fraction or 0.0
            filled = int(fraction * self.width)
            rate = f"{p.rate / 1e6:.1f} MB/s" if p.rate else "-- MB/s"
            eta = _duration(p.eta) if p.eta is not None else "--:--"
            resumed = f" (resumed at {model_size(p.resumed_from)})" if p.resumed_from else ""
            text = (f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction * 100:5.1f}% "
                    f"{model_size(p.done)}/{model_size(p.total)} {rate} ETA {eta}{resumed}")
        click.echo("\r" + text.ljust(78), nl=p.phase == "done", err=True)
        self.shown = p.phase != "done"

    def end(self) -> None:
        if self.shown:
            click.echo(err=True)
            self.shown = False


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60:02d}:{seconds % 60:02d}"


@models.command("pull")
@click.argument("repo")
@click.argument("file", required=False)
@click.option("--name", help="Name to install it under (default: catalog key or file name).")
@click.option("--revision", default="main", show_default=True)
@click.option("--token", envvar="HF_TOKEN", help="Hugging Face access token for gated repos (or HF_TOKEN).")
@click.option("--retries", default=3, show_default=True, help="Reconnects after a broken connection.")
def pull(repo: str, file: str | None, name: str | None, revision: str, token: str | None, retries: int) -> None:
    """Download REPO's FILE (or a catalog key) into the models dir, resuming and verifying it."""
    if file is None:
        entry = load_catalog().models.get(repo)
        if entry is None or entry.demo:
            raise click.UsageError(f"Give a file: `rlm models pull {repo} FILE` (see `rlm models files {repo}`), "
                                   "or a catalog key from `rlm models list`.")
        repo, file = entry.repo, entry.file  # type: ignore[assignment]
    progress = _ProgressLine()
    try:
        model = pull_model(repo, file, name=name, revision=revision, token=token, on_progress=progress,  # type: ignore[arg-type]
                           retries=retries)
    except KeyboardInterrupt:
        progress.end()
        click.echo("Interrupted; the partial download is kept: run the same command to resume.", err=True)
        sys.exit(130)
    finally:
        progress.end()
    click.echo(f"Installed {model.name}: {model.path}")


@models.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--copy", is_flag=True, help="Copy the file into the models dir instead of referencing it.")
@click.option("--name", help="Name to install it under (default: the file name).")
def import_cmd(path: Path, copy: bool, name: str | None) -> None:
    """Register a local .gguf file (validated, metadata read)."""
    model = import_model(path, copy=copy, name=name)
    params = format_parameter_count(model.parameter_count)
    click.echo(f"Imported {model.name}: {model.architecture}, {params} parameters, {model.quantization}, "
               f"trained context {model.context_length} ({'copied to' if copy else 'referenced at'} {model.path})")


@models.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Unregister NAME; delete its file if the app downloaded or copied it."""
    model = remove_model(name)
    kept = model.source not in ("download", "copy")
    click.echo(f"Removed {name}" + (f" (your file {model.path} was kept)." if kept else f" and deleted {model.path}."))


@models.command("info")
@click.argument("name")
def info(name: str) -> None:
    """Metadata, provenance, settings and memory estimate of an installed model, a demo key or a .gguf path."""
    from rlm_desktop.cli.assemble import prepare_starter
    from rlm_desktop.hub.provenance import describe
    from rlm_desktop.runtime import prompt_profile

    prepare_starter(name)
    model = resolve_model(name)
    meta = metadata_for(model)
    try:
        catalog = load_catalog()
    except HubError:
        catalog = None
    origin = describe(model, catalog)
    machine = machine_memory()
    footprint = ModelFootprint.from_metadata(model.name, meta)
    plan = plan_models(footprint, model.n_ctx or 4096, None, 0, machine, root_gpu_layers=model.n_gpu_layers)
    template = meta.chat_template.strip().splitlines()[0][:60] + "..." if meta.chat_template else "none"
    rows = [
        ("Name", model.name), ("File", str(model.path)), *origin.rows(),
        ("Architecture", meta.architecture or "?"), ("Name in file", meta.name or "?"),
        ("Parameters", format_parameter_count(meta.parameter_count)), ("Quantization", meta.quantization or "?"),
        ("Trained context", str(meta.context_length or "?")),
        ("Layers", str(meta.block_count or "?")), ("Chat template", template),
        ("Context (n_ctx)", str(model.n_ctx)), ("GPU layers", "all" if model.n_gpu_layers < 0 else str(model.n_gpu_layers)),
        ("Threads", str(model.n_threads or "auto")), ("Prompt profile", prompt_profile(model.name)),
        ("Memory", plan.summary()), ("GPU", machine.gpu.describe()),
    ]
    for label, value in rows:
        click.echo(f"{label + ':':<17} {value}")


@models.command("set")
@click.argument("name")
@click.option("--ctx", "n_ctx", type=int, help="Context size in tokens.")
@click.option("--gpu-layers", "n_gpu_layers", type=int, help="Layers to offload: -1 all, 0 none.")
@click.option("--threads", "n_threads", type=int, help="CPU threads.")
def set_cmd(name: str, n_ctx: int | None, n_gpu_layers: int | None, n_threads: int | None) -> None:
    """Store per-model load settings for NAME."""
    if n_ctx is None and n_gpu_layers is None and n_threads is None:
        raise click.UsageError("Give at least one of --ctx, --gpu-layers, --threads.")
    values = set_model_settings(name, n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, n_threads=n_threads)
    click.echo(f"{name}: " + ", ".join(f"{k}={v}" for k, v in sorted(values.items())))
