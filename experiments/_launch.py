"""Running a sweep's launches: here, in worker processes on this machine, or on a Dask cluster.

:func:`execute` yields ``(launch, results)`` as launches finish, in whatever order they
finish. What the faults of each way become:

- a launch that raises (here, in a worker process or on a Dask worker) stops the sweep with
  :class:`LaunchFailed`, one line naming its point and the error; the other launches are
  stopped (worker processes killed, Dask tasks cancelled);
- a worker process on this machine dies with its parent: each one watches its parent and,
  once orphaned (the parent was killed, even by SIGKILL), kills itself and what it started
  (it leads its own process group); a parent that stops the sweep (an error, SIGINT,
  SIGTERM) kills its workers before it returns;
- on Dask, a worker that dies in the middle of a launch is the cluster's business: the
  scheduler reruns the launch on another worker (a launch whose every worker died, three
  by default, fails with ``KilledWorker``); a scheduler that cannot be reached, or goes
  away, is :class:`ClusterError`, one line naming its address, within
  :data:`CONNECT_TIMEOUT_S` (see :mod:`spikemem.experiments._dask`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from spikemem.errors import RunFailed, SpikememError

#: Seconds a sweep waits for a Dask scheduler to answer.
CONNECT_TIMEOUT_S = 15.0
#: Seconds between a worker process's looks at whether its parent is still alive.
WATCH_PARENT_S = 0.2

Launch = tuple[Any, ...]
LaunchRunner = Callable[[Launch, Any], list[dict[str, Any]]]


class LaunchFailed(RunFailed):
    """A launch raised, or could not finish; names its point and the error, in one line
    (exit status 3: work started and failed)."""

    def __init__(self, launch: Launch, where: str, error: BaseException) -> None:
        self.launch, self.error = launch, error
        super().__init__(f"the launch of {describe(launch)} failed{where}: {one_line(error)}")


class ClusterError(SpikememError):
    """The Dask scheduler cannot be reached (``exit_code`` 2: nothing ran) or went away (3)."""

    def __init__(self, message: str, exit_code: int = 3) -> None:
        self.exit_code = exit_code
        super().__init__(message)


class SweepStopped(SpikememError):
    """A sweep stopped by a failed launch or a lost cluster: what happened and what was kept."""

    def __init__(self, cause: SpikememError, kept: int, resume_file: Any) -> None:
        self.cause, self.kept, self.exit_code = cause, kept, cause.exit_code
        super().__init__(f"{cause}; {kept} finished points are kept in {resume_file} (--resume runs only the others)")


def describe(launch: Launch) -> str:
    """``point KEY`` or ``points KEY and N more`` (a stacked launch)."""
    first = launch[0].key
    return f"point {first}" if len(launch) == 1 else f"points {first} and {len(launch) - 1} more"


def one_line(error: BaseException) -> str:
    """``Type: first line of the message`` (the message alone for spikemem's own errors)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else "(no message)"
    return text if isinstance(error, SpikememError) else f"{type(error).__name__}: {text}"


def execute(
    launches: list[Launch], config: Any, run_launch: LaunchRunner, workers: int = 1, scheduler: str | None = None
) -> Iterator[tuple[Launch, list[dict[str, Any]]]]:
    """``run_launch(launch, config)`` for every launch: on the Dask cluster at ``scheduler``,
    else in ``workers`` processes (1: here); yields each launch with its results as it finishes."""
    if not launches:
        return
    if scheduler:
        from . import _dask

        yield from _dask.run(launches, config, run_launch, scheduler, CONNECT_TIMEOUT_S)
    elif workers == 1:
        yield from _here(launches, config, run_launch)
    else:
        yield from _in_processes(launches, config, run_launch, workers)


@contextlib.contextmanager
def interruptible(here: bool = True) -> Iterator[None]:
    """While the block runs, SIGINT raises KeyboardInterrupt in the main thread, and so does
    SIGTERM where nothing handles it yet (the command line handles it already), so a sweep
    stops where it is: the launch that ran is not recorded and the workers are stopped,
    instead of a simulator's SIGINT handler finishing the launch early or SIGTERM ending the
    process before it stops its workers. Brian2 installs, on import, a handler that ends a
    running simulation at its current step and lets the program go on (the sweep would score
    and record the cut-short run): where launches run ``here``, it is imported first, so the
    sweep's handler is the one in force. Outside the main thread, nothing changes.

    A signal that lands while Python runs a finalizer (a ``__del__``, a weakref callback)
    raises there, and Python only prints it ("Exception ignored in ...") and goes on: such
    an interrupt is kept instead, and :func:`raise_kept` raises it where the sweep next looks."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if here:
        with contextlib.suppress(ImportError):
            import brian2  # noqa: F401
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if before[signal.SIGTERM] in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _interrupt)
    unraisable = sys.unraisablehook
    sys.unraisablehook = partial(_keep_interrupts, unraisable)
    try:
        yield
        raise_kept()
    finally:
        sys.unraisablehook = unraisable
        _kept.clear()
        for sig, handler in before.items():
            if handler is not None:
                signal.signal(sig, handler)


def raise_kept() -> None:
    """Raise the interrupt a finalizer swallowed (:func:`interruptible`), if there was one."""
    if _kept:
        raise _kept.pop()


#: Interrupts that landed in a finalizer, raised again by :func:`raise_kept`.
_kept: list[BaseException] = []


def _keep_interrupts(unraisable: Callable[[Any], None], info: Any) -> None:
    if isinstance(info.exc_value, KeyboardInterrupt):
        _kept.append(info.exc_value)
    else:
        unraisable(info)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


# --- here --------------------------------------------------------------------------------------


def _here(launches: list[Launch], config: Any, run_launch: LaunchRunner) -> Iterator[tuple[Launch, list[Any]]]:
    for launch in launches:
        try:
            results = run_launch(launch, config)
        except Exception as exc:
            raise LaunchFailed(launch, "", exc) from exc
        yield launch, results


# --- worker processes on this machine ----------------------------------------------------------


def _in_processes(
    launches: list[Launch], config: Any, run_launch: LaunchRunner, workers: int
) -> Iterator[tuple[Launch, list[Any]]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),))
    finished = False
    try:
        futures = {pool.submit(run_launch, launch, config): launch for launch in launches}
        for future in as_completed(futures):
            launch = futures[future]
            try:
                results = future.result()
            except BrokenProcessPool as exc:
                raise LaunchFailed(launch, " (a worker process died: killed, or out of memory)", exc) from exc
            except Exception as exc:
                raise LaunchFailed(launch, " in a worker process", exc) from exc
            yield launch, results
        finished = True
    finally:
        _stop(pool, kill=not finished)


def _stop(pool: Any, kill: bool) -> None:
    """Shut the pool down; with ``kill``, first kill its workers and what they started."""
    if kill:
        # ProcessPoolExecutor has no way to end running workers before Python 3.14: its own table
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            _kill_group(process.pid)
    pool.shutdown(wait=True, cancel_futures=True)


def _kill_group(pid: int) -> None:
    """SIGKILL the process group a worker leads (the worker and its children), or the worker alone."""
    try:
        os.killpg(pid, signal.SIGKILL)  # a group id is its leader's pid: never this process's own group
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _worker_start(parent: int) -> None:
    """Initializer of a worker process: lead a process group of its own (so what it starts
    dies with it) and watch ``parent``."""
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    threading.Thread(target=_watch_parent, args=(parent,), name="spikemem-watch-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Wait until ``parent`` is gone (this process is orphaned), then end this worker's group."""
    while os.getppid() == parent:
        time.sleep(WATCH_PARENT_S)
    if os.getpgrp() == os.getpid():
        with contextlib.suppress(OSError):
            os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(1)
