"""A sandbox worker never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil

SCRIPT = textwrap.dedent(
    """
    import sys
    from rlm_desktop.sandbox import SandboxSession

    if __name__ == "__main__":
        session = SandboxSession("ctx")
        session.start()
        print(session.worker_pid, flush=True)
        session.run("while True: pass")  # the host is killed while this cell spins
    """
)


def test_worker_exits_when_host_is_killed(tmp_path):
    script = tmp_path / "host.py"
    script.write_text(SCRIPT)
    host = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker_pid = int(host.stdout.readline())
    time.sleep(0.5)
    assert psutil.pid_exists(worker_pid)
    os.kill(host.pid, signal.SIGKILL)
    host.wait()
    worker = psutil.Process(worker_pid) if psutil.pid_exists(worker_pid) else None
    if worker is not None:
        try:
            worker.wait(timeout=10)
        except psutil.TimeoutExpired:
            worker.kill()
            raise AssertionError("sandbox worker outlived its host by 10 s")
