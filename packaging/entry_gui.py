"""Frozen entry point of the `rlm-desktop` windowed executable (see entry_rlm.py for why
``freeze_support()`` comes first: the sandbox worker is a spawn child of this exe)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from rlm_desktop.__main__ import main

    sys.exit(main())
