"""`python -m rlm_desktop.cli` runs the `rlm` command."""

import multiprocessing
import sys

from rlm_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
