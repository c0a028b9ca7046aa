"""A sweep's launches on a Dask cluster (``--scheduler ADDRESS``); imported only then.

The client connects within a bounded time, registers :class:`WorkerSetup` (which every
worker runs, those that join or restart later included), submits one task per launch and
yields results as tasks finish. A launch runs on a worker with spikemem as installed there,
one launch at a time per worker process (:func:`serially`: simulators keep global state),
whatever ``--nthreads`` the worker has.

What a cluster's faults become: a worker dying mid-launch → the scheduler reruns the
launch elsewhere (Dask's own retry; nothing to do here); a launch whose every worker died →
``KilledWorker`` → :class:`~spikemem.experiments._launch.LaunchFailed`; a launch that raises
→ ``LaunchFailed`` naming its point; no scheduler at the address, or the scheduler gone
mid-sweep → :class:`~spikemem.experiments._launch.ClusterError` naming the address.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

from distributed import Client, KilledWorker, WorkerPlugin, as_completed
from distributed.client import FutureCancelledError
from distributed.comm import parse_address
from distributed.comm.addressing import parse_host_port

from spikemem.errors import ValidationError

from ._launch import ClusterError, Launch, LaunchFailed, LaunchRunner

#: Protocols whose addresses are HOST:PORT.
HOST_PORT = ("tcp", "tls", "ws", "wss")

_ONE_AT_A_TIME = threading.Lock()


def check_address(text: str) -> str:
    """``--scheduler``: a Dask scheduler address, ``tcp://HOST:PORT`` (or ``HOST:PORT``)."""
    try:
        protocol, location = parse_address(str(text))
        if protocol in HOST_PORT:
            parse_host_port(location)
    except ValueError:
        raise ValidationError("--scheduler", text, "a Dask scheduler address such as tcp://10.0.0.5:8786") from None
    return str(text)


class WorkerSetup(WorkerPlugin):
    """What a Dask worker needs before it runs a launch (run in the worker's main thread)."""

    name = "spikemem-worker-setup"

    def setup(self, worker: Any) -> None:
        prepare_worker(worker.local_directory)
        stop_profiler(worker)


def prepare_worker(local_directory: str) -> None:
    """Make a worker process ready for launches.

    - Brian2 is imported now: it installs a signal handler on import, which only a main
      thread may do (launches run in the worker's task threads);
    - ``OMP_NUM_THREADS`` defaults to 1, as on the command line;
    - the compiled-code cache is the shared ``$SPIKEMEM_CACHE`` (or ``~/.cache/spikemem``),
      where every build folder is locked while one process builds in it; a worker whose
      cache cannot be created there (no HOME, a read-only one) gets its own under its local
      directory, so no two workers ever build into the same folder at once.
    """
    from spikemem.cache import cache_dir

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        cache_dir()
    except (OSError, RuntimeError):
        os.environ["SPIKEMEM_CACHE"] = os.path.join(local_directory, "spikemem-cache")
        cache_dir()
    import brian2  # noqa: F401


def stop_profiler(worker: Any) -> None:
    """Stop the worker's statistical profiler: it samples the running launch's (deep) stack
    every 10 ms under the GIL, time taken from the launch (benchmarks/sweep_scaling.py)."""
    for name in ("profile", "profile-cycle"):
        callback = worker.periodic_callbacks.pop(name, None)
        if callback is not None:
            callback.stop()


def serially(run_launch: LaunchRunner, launch: Launch, config: Any) -> list[dict[str, Any]]:
    """``run_launch(launch, config)``, one at a time in this worker process."""
    with _ONE_AT_A_TIME:
        return run_launch(launch, config)


def run(
    launches: list[Launch], config: Any, run_launch: LaunchRunner, address: str, timeout_s: float
) -> Iterator[tuple[Launch, list[dict[str, Any]]]]:
    """Each launch as a task on the cluster at ``address``; yields them as they finish."""
    with _quiet():
        client = _connect(address, timeout_s)
        try:
            yield from _submitted(client, launches, config, run_launch, address)
        finally:
            with contextlib.suppress(Exception):
                client.close(timeout=timeout_s)


def _connect(address: str, timeout_s: float) -> Client:
    """A client of the scheduler at ``address``, or :class:`ClusterError` within ``timeout_s``."""
    _probe(address, timeout_s)
    try:
        return Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise _unreachable(address, f"no answer within {timeout_s:g} s") from exc


def _probe(address: str, timeout_s: float) -> None:
    """Refuse at once a TCP address where nothing listens (Dask's client would retry until
    its timeout)."""
    protocol, location = parse_address(address)
    if protocol != "tcp":
        return
    host, port = parse_host_port(location)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        raise _unreachable(address, (exc.strerror or type(exc).__name__).lower()) from exc


def _unreachable(address: str, reason: str) -> ClusterError:
    return ClusterError(
        f"no Dask scheduler answers at {address} ({reason}); start one with `dask scheduler` and workers with "
        f"`dask worker {address}`, or leave out --scheduler to run here",
        exit_code=2,  # nothing ran
    )


def _submitted(
    client: Client, launches: list[Launch], config: Any, run_launch: LaunchRunner, address: str
) -> Iterator[tuple[Launch, list[dict[str, Any]]]]:
    try:
        client.register_plugin(WorkerSetup())
        futures = client.map(serially, [run_launch] * len(launches), launches, config=config, pure=False)
    except OSError as exc:
        raise _gone(address, exc) from exc
    owner = {future.key: launch for future, launch in zip(futures, launches, strict=True)}
    try:
        for future in as_completed(futures, loop=client.loop):
            launch = owner[future.key]
            if future.status == "error":  # the launch raised (whatever the type), or killed its workers
                error = future.exception()
                if isinstance(error, KilledWorker):
                    raise LaunchFailed(launch, " on the Dask cluster: every worker that ran it died", error)
                raise LaunchFailed(launch, " on a Dask worker", error) from error
            try:
                results = future.result()
            except (FutureCancelledError, OSError) as exc:  # cancelled as the scheduler went, or unreachable
                raise _gone(address, exc) from exc
            except Exception as exc:
                raise LaunchFailed(launch, " (its results could not be read back)", exc) from exc
            yield launch, results
    finally:
        with contextlib.suppress(Exception):
            client.cancel(futures)


def _gone(address: str, exc: BaseException) -> ClusterError:
    return ClusterError(f"the Dask scheduler at {address} went away ({type(exc).__name__})")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Dask's client logs a traceback when its scheduler goes away; the sweep says it in one line."""
    names = ["distributed"] + [name for name in logging.Logger.manager.loggerDict if name.startswith("distributed.")]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
