"""rlm-desktop: offline Recursive Language Models over large private document sets."""

__version__ = "0.1.0"
