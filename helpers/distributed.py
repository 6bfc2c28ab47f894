"""Run multi-process PyTorch scripts from a notebook, and draw what data parallelism does.

A notebook's kernel is one process, so code for several processes lives in a
script that ``torchrun`` starts N times. :func:`launch` does that through
``sys.executable -m torch.distributed.run`` (the module behind the ``torchrun``
command, so it works wherever this Python runs, Colab included):

- ``--standalone``: one machine; the processes meet at a free port on
  ``localhost`` that the operating system picks, so two launches in a row never
  collide and nothing is reachable from outside the machine;
- every process's output goes to its own log file, so :func:`launch` can return
  it rank by rank instead of interleaved;
- a timeout: a script that hangs (say, one rank waiting for a message that never
  comes) is stopped, every process with it, and reported instead of hanging;
- a failure in any rank raises :class:`LaunchError` naming the rank that failed
  first, how it ended (a Python error, an exit code or a signal), and the end of
  its error output.

Example (each launch takes a few seconds, so the tests run it, not this docstring):
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:  # doctest: +SKIP
    ...     script = Path(folder) / "hello.py"
    ...     _ = script.write_text("import os\\nprint('hello from rank', os.environ['RANK'])\\n")
    ...     print(launch(script, nproc=2, timeout=120))
    [rank 0] hello from rank 0
    [rank 1] hello from rank 1
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["LaunchError", "draw_data_parallel", "launch", "torchrun_command"]

TAIL_LINES = 15  # lines of a failing rank's error output shown in LaunchError


class LaunchError(RuntimeError):
    """A launched script failed in some rank, or did not finish in time."""


def torchrun_command(script: str | os.PathLike, nproc: int, args: Sequence[Any] = (),
                     log_dir: str | os.PathLike | None = None) -> list[str]:
    """The command that starts ``nproc`` copies of ``script`` on this machine.

    Example:
        >>> torchrun_command("train.py", 2)[1:]
        ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', 'train.py']
    """
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    if log_dir is not None:
        # --redirects 3: each rank's stdout and stderr go to files under log_dir.
        command += ["--redirects", "3", "--log-dir", str(log_dir)]
    return [*command, str(script), *(str(a) for a in args)]


def _rank_logs(log_dir: Path, nproc: int, stream: str) -> dict[int, str]:
    """{rank: text} of what each rank wrote to ``stream`` (stdout or stderr)."""
    texts = {}
    for rank in range(nproc):
        files = sorted(log_dir.glob(f"*/attempt_*/{rank}/{stream}.log"))
        texts[rank] = files[-1].read_text(encoding="utf-8", errors="replace") if files else ""
    return texts


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _descendants(pid: int) -> list[int]:
    """Process ids of every descendant of ``pid`` (Linux only; elsewhere an empty list)."""
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = Path(f"/proc/{parent}/task").iterdir()
            children = [int(c) for t in tasks for c in (t / "children").read_text().split()]
        except OSError:
            continue
        found += children
        queue += children
    return found


def _stop(process: subprocess.Popen) -> None:
    """Stop torchrun and the processes it started: politely first, then for good."""
    workers = _descendants(process.pid)
    process.terminate()  # torchrun forwards this to its workers
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in workers:  # anything still running after torchrun is gone
        try:
            os.kill(pid, signal.SIGKILL)
        except (OSError, AttributeError):  # already gone (or no SIGKILL on Windows)
            pass


# How a rank that died from a signal ended, in words (torchrun reports the signal's name).
SIGNAL_CAUSES = {
    "SIGABRT": "it aborted: a crash in C++ code (PyTorch's, say), not a Python exception",
    "SIGSEGV": "it crashed in C++ code (a segmentation fault), not a Python exception",
    "SIGKILL": "something killed it (often the machine running out of memory)",
    "SIGTERM": "torchrun stopped it because another rank had failed",
}


def _failures(launcher_output: str) -> list[tuple[int, str]]:
    """(rank, how it ended) for every rank torchrun reports as failed, the first failure first.

    torchrun ends a failed launch with a summary: a ``rank : N`` and an ``exitcode : E``
    line per failed rank, the first observed failure under ``Root Cause``.

    Example:
        >>> _failures("Failures:\\n  rank : 1 (local_rank: 1)\\n  exitcode : -15 (pid: 7)  (SIGTERM)\\n"
        ...           "Root Cause (first observed failure):\\n  rank : 0 (local_rank: 0)\\n"
        ...           "  exitcode : 1 (pid: 6)\\n")
        [(0, 'exit code 1'), (1, 'signal SIGTERM: torchrun stopped it because another rank had failed')]
    """
    found, rank, root = [], None, False
    for line in launcher_output.splitlines():
        root = root or "Root Cause" in line
        if match := re.match(r"\s*rank\s*:\s*(\d+)", line):
            rank = int(match[1])
        elif (match := re.match(r"\s*exitcode\s*:\s*(-?\d+)", line)) and rank is not None:
            signal_name = re.search(r"\((SIG[A-Z0-9]+)\)", line)
            if signal_name:
                name = signal_name[1]
                how = f"signal {name}" + (f": {SIGNAL_CAUSES[name]}" if name in SIGNAL_CAUSES else "")
            else:
                how = f"exit code {match[1]}"
            found.append((not root, rank, how))
            rank = None
    return [(rank, how) for _, rank, how in sorted(set(found))]


def launch(script: str | os.PathLike, nproc: int = 2, *, args: Sequence[Any] = (),
           timeout: float = 90, env: dict[str, str] | None = None) -> str:
    """Run ``nproc`` processes of ``script`` with torchrun; return what they printed, rank by rank.

    Args:
        script: path of the Python script to run.
        nproc: how many processes (ranks) to start on this machine.
        args: command-line arguments for the script (it reads them from ``sys.argv``).
        timeout: seconds before every process is stopped and :class:`LaunchError` raised.
        env: extra environment variables for the processes.

    Returns:
        Each rank's standard output, every line prefixed with ``[rank N]``, rank 0 first.
        (On a terminal the ranks' lines arrive mixed, in whatever order they print.)

    Raises:
        LaunchError: a rank failed (the message names it and shows the end of its
            error output) or the script ran longer than ``timeout``.
    """
    script = Path(script)
    if not script.is_file():
        raise FileNotFoundError(f"no script at {script}: write it first (Path(...).write_text(...))")
    if not isinstance(nproc, int) or isinstance(nproc, bool) or nproc < 1:
        raise ValueError(f"nproc must be a whole number >= 1, got {nproc!r}")
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    environment.setdefault("OMP_NUM_THREADS", "1")  # one thread per process (torchrun's own default)
    # A rank that crashes in C++ code (a signal, not a Python error) still shows where it was:
    # Python's faulthandler prints every thread's stack to the rank's error output.
    environment.setdefault("PYTHONFAULTHANDLER", "1")
    if os.name == "nt":
        environment.setdefault("USE_LIBUV", "0")  # PyTorch for Windows is built without libuv
    with tempfile.TemporaryDirectory(prefix="torchrun-logs-") as folder:
        log_dir = Path(folder)
        process = subprocess.Popen(
            torchrun_command(script, nproc, args, log_dir), env=environment, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        try:
            launcher_output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            outputs = _rank_logs(log_dir, nproc, "stdout")
            shown = "\n".join(f"--- rank {r}, last lines printed:\n{_tail(t) or '(nothing)'}"
                              for r, t in outputs.items())
            raise LaunchError(
                f"{script.name} did not finish within {timeout:g} s with {nproc} processes, so every "
                f"process was stopped. A rank waiting for a collective that another rank never "
                f"reaches looks like this.\n{shown}"
            ) from None
        finally:
            if process.poll() is None:
                _stop(process)
        outputs = _rank_logs(log_dir, nproc, "stdout")
        errors = _rank_logs(log_dir, nproc, "stderr")
    if process.returncode != 0:
        failures = _failures(launcher_output) or [
            (rank, "a Python error") for rank, text in errors.items() if "Traceback" in text]
        if not failures:
            raise LaunchError(f"torchrun failed (exit code {process.returncode}) before or while starting "
                              f"{script.name}; its output ends with:\n{_tail(launcher_output)}")
        parts = []
        for rank, how in failures:
            if how.startswith("exit code") and "Traceback" in errors[rank]:
                how = "a Python error"
            part = f"rank {rank} of {nproc} failed ({how}); the end of its error output:\n"
            part += _tail(errors[rank]) or "(nothing)"
            if outputs[rank].strip() and rank == failures[0][0]:
                part += f"\nthe last lines it printed:\n{_tail(outputs[rank], 5)}"
            parts.append(part)
        raise LaunchError(f"{script.name}: " + "\n".join(parts))
    return "\n".join(f"[rank {rank}] {line}" for rank, text in outputs.items()
                     for line in text.rstrip("\n").splitlines())


def draw_data_parallel(world_size: int = 2, ax: Any = None) -> Any:
    """Draw one training step of data parallelism: shards, replicas, averaged gradients.

    Returns the matplotlib Axes it drew into.

    Example:
        >>> ax = draw_data_parallel(2)
        >>> len(ax.texts) > 0
        True
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 1.6 + 1.5 * world_size))
    colours = plt.get_cmap("tab10").colors
    height = 1.5 * world_size
    ax.set(xlim=(0, 10.4), ylim=(-0.9, height + 0.6))
    ax.axis("off")

    def box(x: float, y: float, w: float, h: float, text: str, colour: Any, alpha: float = 0.25) -> None:
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=colour, ec="black",
                                    alpha=1.0, lw=1, zorder=1))
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc="white", ec="none",
                                    alpha=1 - alpha, zorder=1))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9, zorder=2)

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=12, lw=1,
                                     color="0.3", zorder=0))

    # The global batch, cut into one shard per process.
    shard_h = height / world_size
    for rank in range(world_size):
        y = height - (rank + 1) * shard_h
        box(0.1, y + 0.08, 1.5, shard_h - 0.16, f"shard {rank}\n{32 // world_size} rows", colours[rank])
    ax.text(0.85, height + 0.3, "global batch (32 rows)", ha="center", fontsize=9, weight="bold")
    # One process per shard: a full copy of the model computes its own gradient.
    for rank in range(world_size):
        y = height - (rank + 0.5) * shard_h
        box(2.3, y - 0.45, 2.4, 0.9, f"process {rank}: a full copy\nof the model (replica)", colours[rank])
        box(5.4, y - 0.3, 1.4, 0.6, f"gradient g{rank}", colours[rank], alpha=0.5)
        box(8.7, y - 0.3, 1.6, 0.6, "step with the\naverage gradient", colours[rank])
        arrow(1.7, y, 2.25, y)
        arrow(4.75, y, 5.35, y)
        arrow(6.85, y, 7.35, height / 2)
        arrow(8.05, height / 2, 8.65, y)
    names = " + ".join(f"g{r}" for r in range(world_size))
    box(7.35, height / 2 - 0.5, 0.7, 1.0, "all\nreduce", "0.6", alpha=0.5)
    ax.text(7.7, -0.35, f"average: ({names}) / {world_size}", ha="center", fontsize=9)
    ax.text(7.7, -0.75, "computed during backward(), sent between processes", ha="center", fontsize=8,
            color="0.35")
    ax.set_title("data parallelism: one training step", fontsize=11)
    return ax
