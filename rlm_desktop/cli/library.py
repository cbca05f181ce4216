"""`rlm ingest` and `rlm library ...`: a thin face over rlm_desktop.library."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import click

from rlm_desktop.cli import cli
from rlm_desktop.cli.bench import bench
from rlm_desktop.errors import DocumentNotFound
from rlm_desktop.library import DocumentInfo, IngestProgress, IngestReport, Library
from rlm_desktop.library.import_report import reason_groups, write_report_csv
from rlm_desktop.library.records import DocumentFlag
from rlm_desktop.sizes import document_size

STATUS_LABELS = {"stored": "stored", "new_version": "new version", "duplicate": "duplicate",
                 "unchanged": "unchanged", "archive": "archive", "failed": "FAILED", "skipped": "skipped"}


def library_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--library", "library_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="Library database file (default: the per-user library).")(func)


def open_library(path: Path | None) -> Library:
    library = Library.open(path)
    for message in library.interrupted:  # said once: the next open finds nothing new
        click.secho(message, fg="yellow", err=True)
    return library


def _when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else "-"


def _result_line(result: Any) -> str:
    label = STATUS_LABELS.get(result.status, result.status)
    detail = []
    if result.ok and result.pages:
        detail.append(f"{result.pages} page{'s' if result.pages != 1 else ''}")
    if result.ocr_pages:
        detail.append(f"{result.ocr_pages} OCR")
    if result.empty_pages:
        detail.append(f"{result.empty_pages} without text (scanned?)")
    if result.reason:
        detail.append(result.reason)
    where = f"    {result.name}" if result.name else str(result.path)  # archive members and attachments
    return f"  {label:<11} {where}" + (f"  ({'; '.join(detail)})" if detail else "")


def print_report(report: IngestReport, skipped_lines: int = 20) -> None:
    """A line per file (skipped ones only when few), the reasons grouped with what to do, the counts."""
    show_skipped = report.count("skipped") <= skipped_lines
    for result in report.files:
        if result.status != "skipped" or show_skipped:
            click.echo(_result_line(result))
    groups = reason_groups(report)
    if groups:
        click.echo("Not in the library, by reason:")
    for group in groups:
        click.echo(f"  {group.count:>6} {STATUS_LABELS[group.status]:<8} {group.reason}")
        click.echo(f"         what to do: {group.advice}")
        more = f" and {group.count - len(group.examples)} more" if group.count > len(group.examples) else ""
        click.echo(f"         e.g. {'; '.join(group.examples)}{more}")
    counts = [f"{report.count(s)} {STATUS_LABELS[s]}" for s in STATUS_LABELS if report.count(s)]
    click.echo(("Cancelled. " if report.cancelled else "") + (", ".join(counts) or "No files found") + ".")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--collection", help="Add the files to this collection (created if needed).")
@library_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every file's result (status, reason, what to do) to this CSV file.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], collection: str | None, library_path: Path | None,
           quiet: bool, report_path: Path | None) -> None:
    """Add files and folders (recursively) to the library; prints what happened to each file."""
    with open_library(library_path) as lib:
        bar: Any = None

        def on_progress(event: IngestProgress) -> None:
            nonlocal bar
            if quiet:
                return
            if bar is None:
                bar = click.progressbar(length=max(1, event.total_bytes), label="Ingesting", file=sys.stderr,
                                        show_pos=False, show_percent=True, item_show_func=lambda s: s)
                bar.__enter__()
            if event.stage == "start":
                bar.update(0, f"{event.index + 1}/{event.total_files} {event.label}")
            else:
                bar.update(max(0, event.bytes_done - bar.pos))

        try:
            report = lib.ingest(list(paths), collection=collection, on_progress=on_progress)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        print_report(report)
    if report_path is not None:
        write_report_csv(report, report_path)
        click.echo(f"Report of {len(report.files)} files written to {report_path}.")
    if report.all_failed or not report.files:
        ctx.exit(1)


@cli.group()
def library() -> None:
    """List, inspect and remove stored documents."""


def _resolve(lib: Library, ref: str) -> DocumentInfo:
    matches = lib.find_documents(ref)
    if not matches:
        raise DocumentNotFound(f"No document named or numbered {ref!r}; see `rlm library list`.")
    if len(matches) > 1:
        ids = ", ".join(str(d.id) for d in matches)
        raise click.UsageError(f"{ref!r} names several documents ({ids}); give the id.")
    return matches[0]


@library.command("list")
@click.option("--collection", help="Only this collection.")
@library_option
def list_documents(collection: str | None, library_path: Path | None) -> None:
    """Documents (current versions) with pages, size and status."""
    with open_library(library_path) as lib:
        lib.check_flags()  # documents stored before flags existed
        documents = lib.documents(collection)
        flags = lib.flags_of([d.id for d in documents if d.flags])
    if not documents:
        click.echo("No documents." + ("" if collection else " Add some with `rlm ingest PATH`."))
        return
    click.echo(f"{'ID':>5}  {'PAGES':>5}  {'SIZE':>9}  {'STATUS':<8} NAME")
    for doc in documents:
        status = doc.status if doc.status != "stored" else ("flagged" if doc.empty_pages else "ok")
        pages = str(doc.pages) if doc.status == "stored" else "-"
        line = f"{doc.id:>5}  {pages:>5}  {document_size(doc.size):>9}  {status:<8} {doc.name}"
        if doc.version > 1:
            line += f"  (version {doc.version})"
        if doc.error:
            line += f"  - {doc.error}"
        click.echo(line)
        for warning in flag_lines(flags.get(doc.id, [])):
            click.secho(f"{'':>7}{warning}", fg="yellow")


def flag_lines(flags: list[DocumentFlag], shown: int = 3) -> list[str]:
    """The warning of a flagged document and its first passages, one line each."""
    if not flags:
        return []
    orders = sum(1 for f in flags if f.is_instruction)
    hidden = len(flags) - orders
    what = [f"{orders} passage{'s' if orders != 1 else ''} written to steer an AI"] if orders else []
    what += [f"{hidden} hidden text{'s' if hidden != 1 else ''}"] if hidden else []
    lines = [f"WARNING: {' and '.join(what)} (read as evidence, never as instructions)"]
    lines += [f"  {f.line()}" for f in flags[:shown]]
    if len(flags) > shown:
        lines.append(f"  ... and {len(flags) - shown} more (rlm library show)")
    return lines


@library.command("show")
@click.argument("doc")
@click.option("--page", type=int, help="Print this page's text.")
@library_option
def show_document(doc: str, page: int | None, library_path: Path | None) -> None:
    """Details of one document (by id or file name), with a line per page."""
    with open_library(library_path) as lib:
        info = _resolve(lib, doc)
        pages = lib.pages(info.id) if info.status == "stored" else []
        members = lib.members(info.id)  # an archive's files, an e-mail's attachments
        flags = lib.document_flags(info.id)
    click.echo(f"Document {info.id}: {info.name}")
    click.echo(f"  path:        {info.path}")
    click.echo(f"  format:      {info.format or '-'}  ({document_size(info.size)}, sha256 {(info.sha256 or '-')[:16]})")
    click.echo(f"  status:      {info.status}" + (f" - {info.error}" if info.error else ""))
    click.echo(f"  version:     {info.version}" + (f" (previous: {info.previous_id})" if info.previous_id else "")
               + ("" if info.current else " (superseded)"))
    click.echo(f"  collections: {', '.join(info.collections) or '-'}")
    click.echo(f"  ingested:    {_when(info.ingested)}")
    if info.parent_id is not None:
        click.echo(f"  inside:      document {info.parent_id}")
    for member, child in members:
        state = f"{child.pages} {child.unit}s" if child.status == "stored" else child.status
        click.echo(f"  member {child.id:>5}: {member}  ({state}" + (f" - {child.error}" if child.error else "") + ")")
    if info.status != "stored":
        return
    for warning in flag_lines(flags, shown=len(flags)):
        click.secho(f"  {warning}", fg="yellow")
    click.echo(f"  {info.pages} {info.unit}s, {info.chars:,} characters"
               + (f", {info.ocr_pages} OCR" if info.ocr_pages else "")
               + (f", {info.empty_pages} without text (scanned?)" if info.empty_pages else ""))
    if page is not None:
        if not 1 <= page <= len(pages):
            raise click.UsageError(f"{info.name} has {len(pages)} {info.unit}s, not {page}.")
        click.echo(pages[page - 1]["text"])
        return
    for row in pages:
        first = " ".join(row["text"].split())[:70]
        mark = {"ocr": " [OCR]", "none": " [NO TEXT]"}.get(row["source"], "")
        click.echo(f"  {info.unit} {row['page']:>4}{mark}: {first}")


@library.command("remove")
@click.argument("doc")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@library_option
def remove_document(doc: str, yes: bool, library_path: Path | None) -> None:
    """Remove a document (by id or file name) from the library."""
    with open_library(library_path) as lib:
        info = _resolve(lib, doc)
        if not yes:
            click.confirm(f"Remove {info.name} (document {info.id}) from the library?", abort=True)
        lib.remove_document(info.id)
    click.echo(f"Removed {info.name} (document {info.id}).")


@library.command("collections")
@library_option
def list_collections(library_path: Path | None) -> None:
    """Collections with their document counts."""
    with open_library(library_path) as lib:
        collections = lib.collections()
    if not collections:
        click.echo("No collections. Create one with `rlm ingest PATH --collection NAME`.")
    for c in collections:
        click.echo(f"{c.name}: {c.documents} document{'s' if c.documents != 1 else ''}, {c.chars:,} characters")


@library.command("search")
@click.argument("query")
@click.option("--collection", help="Only this collection.")
@click.option("-k", "limit", default=10, show_default=True, help="How many hits.")
@library_option
def search_library(query: str, collection: str | None, limit: int, library_path: Path | None) -> None:
    """Full-text search (bm25): best pages with a snippet."""
    with open_library(library_path) as lib:
        hits = lib.search(query, limit, collection=collection)
    if not hits:
        click.echo("No matches.")
    for hit in hits:
        click.echo(f"{hit['document']}, page {hit['page']}  [{hit['score']:.2f}]  {hit['snippet']}")


@library.command("clear-cache")
@library_option
def clear_cache(library_path: Path | None) -> None:
    """Empty the sub-call cache."""
    with open_library(library_path) as lib:
        removed = lib.clear_cache()
    click.echo(f"Removed {removed} cached sub-call answer{'s' if removed != 1 else ''}.")


@bench.command("library")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.001, 10.0),
              help="Shrink (or grow) every corpus: 0.05 for a quick run.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to generate the corpora (default: a temporary folder, removed after).")
@click.option("--dataroom-mb", type=click.FloatRange(1, 100_000),
              help="Size of the generated data-room ZIP's members in MB (default 1024 x scale).")
@click.option("--only", type=click.Choice(["all", "corpora", "dataroom"]), default="all", show_default=True,
              help="corpora: text, PDF and FTS figures; dataroom: the data-room ZIP figures.")
@click.option("--tree", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Instead: ingest this real folder as it comes (such as /usr/share/doc): share of text-bearing "
                   "files stored, files/s, MB/s, peak RSS, reasons for the rest.")
@click.option("--no-ocr", is_flag=True, help="With --tree: leave OCR off.")
def bench_library(scale: float, workdir: Path | None, dataroom_mb: float | None, only: str, tree: Path | None,
                  no_ocr: bool) -> None:
    """Ingest throughput, FTS query latency, database size, and a data-room ZIP (MB/s, peak RSS, resume)."""
    from rlm_desktop.library.bench import PARTS, run_library_bench

    if tree is not None:
        from rlm_desktop.library.bench_tree import run_tree_bench

        run_tree_bench(tree, echo=click.echo, ocr=not no_ocr, workdir=workdir)
        return

    parts = {"all": PARTS, "corpora": ("text", "pdf", "fts"), "dataroom": ("dataroom",)}[only]
    run_library_bench(scale=scale, workdir=workdir, echo=click.echo, dataroom_mb=dataroom_mb, parts=parts)
