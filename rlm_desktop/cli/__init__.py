"""The `rlm` command: a thin face over the core.

Each sub-command group lives in its own module and registers itself on
:data:`cli`; this module only assembles them and turns typed errors into
short messages (never a traceback).
"""

from __future__ import annotations

import importlib
import sys

import click

from rlm_desktop.errors import RLMDesktopError

# Modules that add commands to `cli`; each is optional until its issue lands.
_COMMAND_MODULES = ("ask", "library", "runs", "models", "eval", "bench", "serve")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rlm-desktop")
def cli() -> None:
    """Ask questions of large document sets, offline, with Recursive Language Models."""


def _load_commands() -> None:
    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(f"rlm_desktop.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"rlm_desktop.cli.{name}":
                raise


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rlm` console script."""
    _load_commands()
    try:
        result = cli.main(args=argv, prog_name="rlm", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except RLMDesktopError as exc:
        click.echo(f"Error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
