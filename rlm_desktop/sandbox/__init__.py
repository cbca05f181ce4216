"""Untrusted code execution: a RestrictedPython REPL over ``context`` in a child process.

``SandboxSession(context).run(code) -> CellResult``; see session.py for the process
side, policy.py for what cell code may do, helpers.py for what the REPL offers.
"""

from rlm_desktop.sandbox.helpers import HELPER_NAMES, Doc, Hit
from rlm_desktop.sandbox.policy import ALLOWED_MODULES
from rlm_desktop.sandbox.results import CellResult, SandboxLimits
from rlm_desktop.sandbox.session import SandboxSession

__all__ = ["ALLOWED_MODULES", "CellResult", "Doc", "HELPER_NAMES", "Hit", "SandboxLimits", "SandboxSession"]
