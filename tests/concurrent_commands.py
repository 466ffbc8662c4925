"""Start pipeline commands in the background and collect them later, so that independent runs overlap."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


def command_env() -> dict[str, str]:
    """Return the environment with this interpreter's bin folder first on PATH, as run_command sets it."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def start_command(args: list[str], cwd: Path) -> subprocess.Popen:
    """Start `args` in `cwd` with stdout and stderr going to a temporary file, which no pipe limit can block."""
    log = tempfile.TemporaryFile("w+", encoding="utf-8")
    process = subprocess.Popen(args, cwd=cwd, env=command_env(), stdout=log, stderr=subprocess.STDOUT, text=True)
    process.log = log
    return process


def finish_command(process: subprocess.Popen, timeout_s: float = 900) -> str:
    """Wait for `process`; fail the test with its output if it exits non-zero, else return the output."""
    try:
        process.wait(timeout=timeout_s)
    finally:
        if process.poll() is None:
            process.kill()
    process.log.seek(0)
    output = process.log.read()
    process.log.close()
    if process.returncode != 0:
        pytest.fail(f"{' '.join(process.args)} exited {process.returncode}\n{output}")
    return output
