"""``python -m rlm_desktop`` and the ``rlm-desktop`` console script: the desktop app."""

from __future__ import annotations

import multiprocessing
import sys


def main() -> int:
    """Start the desktop app."""
    multiprocessing.freeze_support()  # frozen builds: sandbox workers re-enter here
    from rlm_desktop.gui.app import run

    return run(sys.argv)


if __name__ == "__main__":
    sys.exit(main())
