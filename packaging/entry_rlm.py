"""Frozen entry point of the `rlm` console executable.

``multiprocessing.freeze_support()`` must run first: the sandbox worker is a
``spawn`` child, which a frozen app starts as ``<this exe> --multiprocessing-fork``;
without it the child would run the CLI again instead of the worker.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from rlm_desktop.cli import main

    sys.exit(main())
