"""`rlm ask "QUESTION" --docs PATH...`: one RLM run from the command line.

A thin face: it gathers the context (files read through the library, or a stored
collection), builds the models and the engine through :mod:`rlm_desktop.runtime`,
runs the engine in a worker thread (Ctrl-C cancels the run and still prints what
it found) and prints the answer, citations, the guard that ended it and a trace.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from rlm_desktop.cli import cli
from rlm_desktop.documents import Document
from rlm_desktop.engine.events import taken_back_line
from rlm_desktop.errors import DocumentNotFound
from rlm_desktop.settings import Settings

_PLAIN_SUFFIXES = {".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".log", ".rst", ".html", ".xml"}
_PREVIEW = 160


@cli.command()
@click.argument("question")
@click.option("--docs", "docs", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Files or folders to ask about (repeatable).")
@click.option("--collection", help="Ask about a stored collection; with --docs, add the files to it first.")
@click.option("--library", "library_path", type=click.Path(path_type=Path), help="Library database file.")
@click.option("--root", "root_spec", help="Root model: .gguf path, server URL or model name.")
@click.option("--sub", "sub_spec", help="Sub model: .gguf path, server URL or model name.")
@click.option("--max-iterations", type=click.IntRange(1, 200), help="Most root turns.")
@click.option("--depth", type=click.IntRange(1, 2), help="1: llm_query is a model call; 2: a child RLM.")
@click.option("--threads", type=click.IntRange(1, 256), help="CPU threads per model.")
@click.option("--no-grammar", is_flag=True, help="Do not constrain root turns with the GBNF grammar.")
@click.option("--draft", type=click.Choice(["auto", "none", "lookup", "model"]),
              help="Speculative root decoding: drafts from the conversation (lookup) or the sub model (model).")
@click.option("--trace", is_flag=True, help="Stream the trajectory while it runs.")
@click.option("--json", "as_json", is_flag=True, help="Print answer, trajectory and usage as JSON.")
def ask(question: str, docs: tuple[Path, ...], collection: str | None, library_path: Path | None,
        root_spec: str | None, sub_spec: str | None, max_iterations: int | None, depth: int | None,
        threads: int | None, no_grammar: bool, draft: str | None, trace: bool, as_json: bool) -> None:
    """Answer QUESTION over documents with a Recursive Language Model."""
    from rlm_desktop import runtime
    from rlm_desktop.cli.assemble import prepare_starter
    from rlm_desktop.engine import RLM
    from rlm_desktop.hub.demo import DEMO_WARNING

    if not docs and not collection:
        raise click.UsageError("Give documents with --docs PATH or a stored collection with --collection NAME.")
    settings = Settings.load()
    root_spec = root_spec or settings.root_model or runtime.default_models()[0]
    sub_spec = sub_spec or settings.sub_model or runtime.default_models()[1]
    config = runtime.engine_config(settings, root_spec)
    config.max_iterations = max_iterations or config.max_iterations
    config.depth = depth or config.depth
    config.grammar = config.grammar and not no_grammar

    with ExitStack() as stack:
        source = stack.enter_context(_open_context(docs, collection, library_path))
        for spec in (root_spec, sub_spec):
            prepare_starter(spec)  # first use only: assembles the starter model with a progress line
        root = runtime.load_model(root_spec, n_threads=threads, prompt_cache=True, draft_model=sub_spec,
                                  draft=runtime.root_draft(draft or settings.root_draft, root_spec, sub_spec))
        stack.callback(root.close)
        # A separate sub model object even for the same file: sub-calls must not evict the root's KV cache.
        sub = runtime.load_model(sub_spec, n_threads=threads, batching=True, parallel=config.parallel_sub_calls)
        stack.callback(sub.close)
        if runtime.is_demo_model(root_spec) or runtime.is_demo_model(sub_spec):
            click.secho(DEMO_WARNING, fg="yellow", err=True)
        rlm = RLM(root, sub, config, sub_call_cache=source.cache)
        run_id = source.start_run(question, settings=asdict(config), models={"root": root_spec, "sub": sub_spec})
        listeners: list[Callable[[Any], None]] = []
        if run_id is not None:
            listeners.append(lambda event: source.library.add_event(run_id, event))
        if trace:
            listeners.append(lambda event: _print_event(event))
        result = _run_cancellable(lambda cancel: rlm.run(
            question, source.context, cancel=cancel, tools=source.tools,
            on_event=(lambda event: [listen(event) for listen in listeners]) if listeners else None))
        if run_id is not None:
            source.library.finish_run(run_id, result.summary())
    if as_json:
        click.echo(json.dumps(_as_json(result, root_spec, sub_spec), indent=2, default=str))
    else:
        _print_result(result)


# --- context ----------------------------------------------------------------------------
class _Source:
    """The run's context plus, when a library is used, its cache, search tool and run log."""

    def __init__(self, context: list[Document], library: Any = None, record: bool = False) -> None:
        self.context = context
        self.library = library
        self.record = record
        doc_ids = [d.doc_id for d in context if d.doc_id is not None]
        self.cache = library.sub_call_cache if library is not None else None
        self.tools: dict[str, Callable[..., Any]] = {}
        if library is not None and doc_ids:
            self.tools["search"] = lambda query, k=10: library.search(str(query), int(k), doc_ids=doc_ids)
        self._collection: str | None = None

    def start_run(self, question: str, *, settings: dict[str, Any], models: dict[str, str]) -> int | None:
        if not self.record:
            return None
        doc_ids = [d.doc_id for d in self.context if d.doc_id is not None]
        return self.library.start_run(question, collection=self._collection, doc_ids=doc_ids,
                                      settings=settings, models=models)


@contextmanager
def _open_context(docs: tuple[Path, ...], collection: str | None, library_path: Path | None) -> Iterator[_Source]:
    """Files through the library (a throwaway one unless a collection is named), else read directly."""
    try:
        from rlm_desktop.library import Library
    except ImportError:
        if collection:
            raise click.UsageError("--collection needs the document library, which is not installed.") from None
        yield _Source(_read_plain_files(docs))
        return
    with ExitStack() as stack:
        if collection or library_path:
            library = stack.enter_context(Library.open(library_path))
            for message in library.interrupted:
                click.secho(message, fg="yellow", err=True)
        else:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="rlm-ask-"))
            library = stack.enter_context(Library.open(Path(scratch) / "library.db"))
        doc_ids: list[int] = []
        if docs:
            report = library.ingest(list(docs), collection=collection)
            for failure in (f for f in report.files if not f.ok):
                click.secho(f"Skipped {failure.path}: {failure.reason}", fg="yellow", err=True)
            doc_ids = [f.doc_id for f in report.files if f.ok and f.doc_id is not None]
            if not doc_ids:
                raise DocumentNotFound("None of the given files could be read.")
        context = library.load_context(collection) if collection else library.load_context(doc_ids=doc_ids)
        if not context:
            raise DocumentNotFound(f"Collection {collection!r} holds no documents.")
        source = _Source(context, library, record=bool(collection or library_path))
        source._collection = collection
        yield source


def _read_plain_files(paths: tuple[Path, ...]) -> list[Document]:
    """Plain-text files (and folders of them) as documents, without the library."""
    documents = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix.lower() not in _PLAIN_SUFFIXES:
                click.secho(f"Skipped {file}: not a plain-text file", fg="yellow", err=True)
                continue
            try:
                documents.append(Document(name=file.name, text=file.read_text(encoding="utf-8", errors="replace")))
            except OSError as exc:
                click.secho(f"Skipped {file}: {exc.strerror or exc}", fg="yellow", err=True)
    if not documents:
        raise DocumentNotFound("None of the given files could be read as plain text.")
    return documents


# --- running ------------------------------------------------------------------------------
def _run_cancellable(run: Callable[[Any], Any]) -> Any:
    """Run in a worker thread; Ctrl-C cancels the run and waits for its partial result."""
    from rlm_desktop.backends.base import CancelToken

    cancel = CancelToken()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = run(cancel)
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="rlm-ask", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(timeout=0.2)
    except KeyboardInterrupt:
        click.secho("Cancelling...", fg="yellow", err=True)
        cancel.cancel()
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


# --- output -------------------------------------------------------------------------------
def _print_event(event: Any) -> None:
    line = describe_event(event)
    if line:
        click.echo(line, err=True)


def _prompt_use(prompt: int, evaluated: int, restored: int) -> str:
    """'1,502 prompt tokens: 38 evaluated, 1,464 reused (1,440 from a saved prompt state)'."""
    reused = prompt - evaluated
    saved = f" ({restored:,} from a saved prompt state)" if restored else ""
    return f"{prompt:,} prompt tokens: {evaluated:,} evaluated, {reused:,} reused{saved}"


def describe_event(event: Any) -> str | None:
    """One trace line for an engine event (None for events not worth a line)."""
    indent = "    " * getattr(event, "depth", 0)
    kind = event.kind
    if kind == "root_turn":
        flags = ("" if event.runnable else " [not runnable]") + (" [repaired]" if event.repaired else "")
        drafts = getattr(event, "draft_tokens_proposed", 0)
        drafted = f" ({event.draft_tokens_accepted} of {drafts} draft tokens accepted)" if drafts else ""
        return (f"{indent}-- turn {event.iteration}: {event.completion_tokens} tokens out{drafted}, "
                f"{_prompt_use(event.prompt_tokens, event.prompt_tokens_evaluated, event.prompt_tokens_restored)}, "
                f"{event.seconds:.1f}s{flags}\n{_indent(event.text.strip(), indent + '   ')}")
    if kind == "cell_output":
        text = event.output.strip()[:_PREVIEW * 3] or "(nothing printed)"
        error = f"\n{indent}   error: {event.error}" if event.error else ""
        return f"{indent}   => {_indent(text, indent + '      ').lstrip()}{error}"
    if kind == "sub_call_finished":
        tag = " (cached)" if event.cached else ""
        evaluated = getattr(event, "prompt_tokens_evaluated", None)
        if not event.cached and evaluated is not None and evaluated < event.prompt_tokens:
            tag = f" ({_prompt_use(event.prompt_tokens, evaluated, 0)})"
        answer = event.error or event.answer_preview.replace("\n", " ")[:_PREVIEW]
        return f"{indent}   sub-call {event.call_id}{tag}: {answer}"
    if kind == "turn_taken_back":
        rejected = f"\n{_indent(event.note.strip(), indent + '   ')}" if event.reason == "sample_failed_checks" else ""
        return f"{indent}   [{taken_back_line(event.reason, event.next_sampled)}]{rejected}"
    if kind == "final":
        return f"{indent}== final ({event.stopped_by or 'FINAL'})"
    if kind == "error":
        return f"{indent}!! {event.message}"
    return None


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _print_result(result: Any) -> None:
    click.echo(result.answer or "(no answer)")
    if result.citations:
        click.echo("\nSources:")
        for citation in result.citations:
            click.echo(f"  - {citation.label()}")
    if result.stopped_by:
        click.secho(f"\nStopped by {result.stopped_by.replace('_', ' ')}: the answer may be incomplete.",
                    fg="yellow", err=True)
    click.echo(_trace_summary(result), err=True)


def _trace_summary(result: Any) -> str:
    cells = sum(1 for e in result.trajectory if e.kind == "code_cell" and e.depth == 0)
    errors = sum(1 for e in result.trajectory if e.kind == "cell_output" and e.error and e.depth == 0)
    tokens = sum(u.total_tokens for u in result.usage.values())
    return (f"\n{result.iterations} root turns, {cells} code cells ({errors} with errors), "
            f"{result.sub_calls} sub-calls ({result.cache_hits} cached), {tokens:,} tokens, {result.seconds:.1f}s")


def _as_json(result: Any, root_spec: str, sub_spec: str) -> dict[str, Any]:
    return {
        **result.summary(),
        "models": {"root": root_spec, "sub": sub_spec},
        "trajectory": [event.to_dict() for event in result.trajectory],
    }
