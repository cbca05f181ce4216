"""`rlm serve` (OpenAI-compatible HTTP) and `rlm mcp` (Model Context Protocol): the library for other apps.

Both listen on loopback only unless Settings allow other devices (then with a bearer token).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rlm_desktop.cli import cli
from rlm_desktop.cli.bench import bench
from rlm_desktop.settings import Settings

_MODEL_OPTIONS = [
    click.option("--library", "library_path", type=click.Path(path_type=Path), help="Library database file."),
    click.option("--root", "root_spec", help="Root model for asks: .gguf path, server URL or model name."),
    click.option("--sub", "sub_spec", help="Sub model for asks: .gguf path, server URL or model name."),
    click.option("--threads", type=click.IntRange(1, 256), help="CPU threads per model."),
]


def _model_options(fn):  # type: ignore[no-untyped-def]
    for option in reversed(_MODEL_OPTIONS):
        fn = option(fn)
    return fn


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; beyond loopback needs 'Allow other devices' and a token in Settings.")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: Settings, 8765; 0 picks a free one).")
@_model_options
def serve(host: str, port: int | None, library_path: Path | None, root_spec: str | None, sub_spec: str | None,
          threads: int | None) -> None:
    """OpenAI-compatible server: model rlm:<collection> answers with an RLM run, others are plain chat."""
    from rlm_desktop.service.host import HttpServer, Services
    from rlm_desktop.service.openai_app import create_openai_app

    settings = Settings.load()
    services = Services.open(library_path=library_path, settings=settings, root_spec=root_spec, sub_spec=sub_spec,
                             threads=threads)
    try:
        server = HttpServer(create_openai_app(services), host=host,
                            port=settings.serve_port if port is None else port, policy=services.policy,
                            activity=services.activity, name="OpenAI-compatible server")
        server.start()
        click.echo(f"OpenAI-compatible server on {server.url}/v1 (models: rlm:<collection>, installed models); "
                   f"Ctrl-C stops it.", err=True)
        _wait_until_interrupted(server)
    finally:
        services.close()


@cli.command()
@click.option("--http", "use_http", is_flag=True, help="Streamable HTTP on HOST:PORT/mcp instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --http: address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), help="With --http: port (default: Settings, 8766).")
@_model_options
def mcp(use_http: bool, host: str, port: int | None, library_path: Path | None, root_spec: str | None,
        sub_spec: str | None, threads: int | None) -> None:
    """MCP server (stdio, or streamable HTTP with --http): list, search, read and ask your collections."""
    import anyio

    from rlm_desktop.service.host import HttpServer, Services
    from rlm_desktop.service.mcp_tools import create_mcp_server

    settings = Settings.load()
    services = Services.open(library_path=library_path, settings=settings, root_spec=root_spec, sub_spec=sub_spec,
                             threads=threads)
    try:
        if not use_http:
            anyio.run(create_mcp_server(services, transport="stdio").run_stdio_async)
            return
        app = create_mcp_server(services, transport="http").streamable_http_app(host=host)
        server = HttpServer(app, host=host, port=settings.mcp_port if port is None else port,
                            policy=services.policy, activity=services.activity, name="MCP server")
        server.start()
        click.echo(f"MCP server (streamable HTTP) on {server.url}/mcp; Ctrl-C stops it.", err=True)
        _wait_until_interrupted(server)
    finally:
        services.close()


def _wait_until_interrupted(server: object) -> None:
    import time

    try:
        while server.running:  # type: ignore[attr-defined]
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("Stopping.", err=True)
    finally:
        server.stop()  # type: ignore[attr-defined]


@bench.command("service")
@click.option("--asks", type=click.IntRange(3, 500), default=20, show_default=True, help="Asks per way of asking.")
@click.option("--seconds", type=click.FloatRange(0.5, 60), default=3.0, show_default=True,
              help="Length of each load phase.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Loopback clients at once in the load phases.")
def bench_service(asks: int, seconds: float, concurrency: int) -> None:
    """Served-ask overhead (scripted root) and loopback requests/s of /v1/models and MCP search."""
    from rlm_desktop.service import bench as service_bench

    def cli_ask(args: list[str]) -> None:
        import contextlib
        import io

        from rlm_desktop.cli import main

        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if main(["ask", *args]) != 0:
                raise click.ClickException("rlm ask failed inside the benchmark")

    for line in service_bench.run(asks=asks, seconds=seconds, concurrency=concurrency, echo=sys.stderr,
                                  cli_ask=cli_ask):
        click.echo(line)
