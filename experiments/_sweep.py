"""What every sweep shares (today ``spikemem stress ca3`` and ``spikemem stress rram``).

A sweep runs many *points* of one config and scores each; this module holds the parts
that do not depend on what a point is:

- option checks, all run before anything is simulated or any file opened;
- launches: points grouped so that one simulation runs several of them;
- the resume file: a JSON line per finished point, fsynced, so a killed sweep restarts
  where it stopped (``--resume``; its contract: :mod:`spikemem.experiments._resume`), and
  the lock that keeps two runs off one output;
- running the launches here, in worker processes or on a Dask cluster, behind a progress bar
  (what each fault becomes: :mod:`spikemem.experiments._launch`);
- the HDF5 file a sweep writes (atomically) and its provenance.

Nothing here knows what a point is. A config has ``points()`` (each point with a ``key``,
unique in the sweep, and a ``shape``: a short text, equal for points that can share one
launch, e.g. one network structure), ``digest()`` (hash of the config: a resume file of
another config is refused), ``target``, ``target_options`` (``KEY=VALUE`` texts) and, where
points can share a launch, ``batch`` (points per launch; 0: every point of a shape). Config
and points must pickle (worker processes and Dask workers receive them).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from spikemem.cache import cache_dir
from spikemem.errors import ValidationError
from spikemem.network import Network
from spikemem.target_options import maps_only, parse_options

from . import _launch, _resume

#: ``run_launch(points, config)``: simulate a launch of points, one result dict (with the
#: point's ``key``) per point. A top-level function, so worker processes can run it.
LaunchRunner = Callable[[tuple[Any, ...], Any], list[dict[str, Any]]]


# --- option checks -------------------------------------------------------------------------


def parse_items(option: str, text: str) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]``; an empty list is refused."""
    items = [s.strip() for s in str(text).split(",") if s.strip()]
    if not items:
        raise ValidationError(option, text, "a comma-separated list")
    return items


def parse_choices(option: str, text: str, allowed: Iterable[str], described: str | None = None) -> tuple[str, ...]:
    """Comma-separated names, each one of ``allowed`` (repeats dropped, order kept); the
    refusal says ``described``, else "one or more of" the allowed names."""
    allowed = tuple(allowed)
    names = tuple(dict.fromkeys(parse_items(option, text)))
    for name in names:
        if name not in allowed:
            raise ValidationError(option, name, described or "one or more of " + ", ".join(allowed))
    return names


def parse_target(text: str) -> str:
    """``--target``: a target spikemem knows (installed or not; the sweep checks that later)."""
    from spikemem.targets import resolve

    try:
        resolve(text)
    except ValidationError as exc:
        raise ValidationError("--target", text, exc.allowed) from None
    return text


def parse_fraction(option: str, value: Any, low_open: bool = False) -> float:
    """A number in [0, 1] (in (0, 1] with ``low_open``)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = float("nan")
    if not (0.0 < x <= 1.0 if low_open else 0.0 <= x <= 1.0):
        raise ValidationError(option, value, "a number in (0, 1]" if low_open else "a number in [0, 1]")
    return x


def parse_count(option: str, value: Any) -> int:
    """An integer >= 1 (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValidationError(option, value, "an integer >= 1")
    return int(value)


def parse_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``"5x10,100x100"`` → ((5, 10), (100, 100)); both numbers >= 1, repeats dropped."""
    sizes = []
    for item in parse_items("--sizes", text):
        n, sep, m = item.lower().partition("x")
        if not sep or not n.strip().isdigit() or not m.strip().isdigit() or int(n) < 1 or int(m) < 1:
            raise ValidationError("--sizes", item, "N x M with integers >= 1, e.g. 5x10,100x100")
        sizes.append((int(n), int(m)))
    return tuple(dict.fromkeys(sizes))


def parse_query_bits(text: str) -> tuple[int, int]:
    """``"1-3"`` → (1, 3): bits per content query, 1 <= LOW <= HIGH."""
    lo, sep, hi = str(text).partition("-")
    try:
        low, high = int(lo), int(hi if sep else lo)
    except ValueError:
        raise ValidationError("--query-bits", text, "a range such as 1-3 (bits per content query)") from None
    if low < 1 or high < low:
        raise ValidationError("--query-bits", text, "LOW-HIGH with 1 <= LOW <= HIGH")
    return (low, high)


def sweep_target_options(texts: list[str]) -> tuple[str, ...]:
    """``--option KEY=VALUE`` texts for every launch of a sweep (the target checks the keys
    later, still before anything runs). Refused here: a folder (``build_dir``, ``workdir``:
    each launch builds in its own) and ``virtual`` (a virtual board maps without simulating,
    so there are no answers to score)."""
    options = parse_options(texts)
    for key in ("build_dir", "workdir"):
        if key in options:
            raise ValidationError(
                f"--option {key}", options[key], "left out: each launch of a sweep has its own folder"
            )
    if maps_only(options):
        raise ValidationError(
            "--option virtual",
            options["virtual"],
            "left out: a virtual board maps without simulating, so a sweep has nothing to score "
            "(a board: board=IP or spalloc=URL)",
        )
    return tuple(str(text).strip() for text in texts)


def check_target(config: Any, network_of: Callable[[Any], Network]) -> None:
    """The target's own checks (no GPU, a feature it lacks, a device model it cannot carry,
    an option it does not take) on ``network_of(point)`` for the first point of each shape."""
    from spikemem.targets import check_runs, resolve

    info, module, variant = resolve(config.target)
    check_runs(info)
    options = parse_options(config.target_options)
    firsts: dict[str, Any] = {}
    for point in config.points():
        firsts.setdefault(point.shape, point)
    for point in firsts.values():
        module.check(network_of(point), variant=variant, **options)


# --- launches and the resume file ------------------------------------------------------------


def launches(points: list[Any], batch: int) -> list[tuple[Any, ...]]:
    """Points grouped into launches: one ``shape`` each, at most ``batch`` points (0: no
    limit); ``batch`` 1 keeps every point apart."""
    if batch == 1:
        return [(p,) for p in points]
    shapes: dict[str, list[Any]] = {}
    for p in points:
        shapes.setdefault(p.shape, []).append(p)
    out = []
    for group in shapes.values():
        size = batch or len(group)
        out += [tuple(group[k : k + size]) for k in range(0, len(group), size)]
    return out


def resume_path(config: Any, out: str | None, kind: str = "sweep") -> Path:
    """Where finished points of a ``spikemem stress KIND`` sweep are kept while it runs."""
    if out:
        return Path(f"{out}.resume.jsonl")
    return cache_dir("stress") / f"{kind}-{config.digest()}.jsonl"


def load_resume(path: Path, config: Any, schema: _resume.Schema = None) -> dict[str, dict[str, Any]]:
    """Finished points of this config from a resume file, by key (:func:`_resume.load`)."""
    return _resume.load(path, config, schema)


def claimed(resume_file: Path, out: str | None) -> contextlib.AbstractContextManager[None]:
    """The lock on a sweep's output and resume file, held for a block (:func:`_resume.claimed`):
    a second run on the same ``--out`` is refused at once, naming the run that holds it."""
    return _resume.claimed(resume_file, f"--out {out}" if out else f"resume file {resume_file}")


# --- running the sweep -----------------------------------------------------------------------


def sweep(
    config: Any,
    resume_file: Path,
    run_launch: LaunchRunner,
    resume: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    desc: str = "sweep",
    schema: _resume.Schema = None,
) -> tuple[list[dict[str, Any]], int]:
    """Run every point not already in ``resume_file`` (with ``resume``); results in grid order.

    The points to run are grouped by :func:`launches` (``config.batch`` to a launch, 1 if
    the config has no ``batch``) and each launch goes to ``run_launch(points, config)``:
    here, in ``workers`` processes, or on the Dask cluster at ``scheduler``. Every finished
    point is appended to ``resume_file`` at once; ``schema`` (:data:`._resume.Schema`) is what
    each result must look like, checked on the resume file's entries before any work and on
    each new result before it is recorded. Returns the results and how many came from the
    resume file. A launch that fails, or a cluster that is lost, stops the sweep with one
    line (:class:`~spikemem.experiments._launch.SweepStopped`); the finished points stay in
    the resume file.
    """
    points = config.points()
    done = _resume.load(resume_file, config, schema) if resume else {}
    resumed = len(done)
    todo = [p for p in points if p.key not in done]
    units = launches(todo, getattr(config, "batch", 1))
    from tqdm import tqdm

    bar = tqdm(total=len(points), initial=resumed, desc=desc, unit="point", disable=not progress)
    here = workers == 1 and not scheduler
    with _resume.Log(resume_file, config, done) as log, bar, _launch.interruptible(here):
        work = run_launch
        if here and any(len(unit) > 1 for unit in units):
            work = partial(_announced, bar, run_launch)
        try:
            with contextlib.closing(_launch.execute(units, config, work, workers, scheduler)) as finished:
                for unit, results in finished:
                    _launch.raise_kept()  # an interrupt during this launch: it is not recorded
                    for result in _checked(unit, results, schema):
                        done[result["key"]] = result
                        log.add(result)
                        bar.update(1)
        except (_launch.LaunchFailed, _launch.ClusterError) as exc:
            raise _launch.SweepStopped(exc, len(done), resume_file) from exc
    return [done[p.key] for p in points], resumed


def _checked(unit: tuple[Any, ...], results: list[dict[str, Any]], schema: _resume.Schema) -> list[dict[str, Any]]:
    """A launch's results, one per point of the launch, each fitting ``schema``."""
    keys = [p.key for p in unit]
    got = [r.get("key") if isinstance(r, dict) else None for r in results]
    if sorted(map(str, got)) != sorted(keys):
        raise _launch.LaunchFailed(unit, "", ValueError(f"it returned results for {got}, not for {keys}"))
    for result in results:
        problem = _resume.schema_problem(result, schema, "result") if schema is not None else None
        if problem:
            raise _launch.LaunchFailed(unit, "", ValueError(f"its result does not fit the result schema: {problem}"))
    return results


def _announced(bar: Any, run_launch: LaunchRunner, points: tuple[Any, ...], config: Any) -> list[dict[str, Any]]:
    """``run_launch(points, config)``, the bar saying what runs meanwhile (a stacked launch of
    many points finishes them all at once, after its whole build and run)."""
    shown = f"{len(points)} x {points[0].shape} in one launch" if len(points) > 1 else ""
    bar.set_postfix_str(shown)
    return run_launch(points, config)


def check_scheduler(address: str | None) -> str | None:
    """``--scheduler``: None, or a Dask scheduler address with ``dask.distributed`` installed."""
    if not address:
        return None
    try:
        from . import _dask
    except ImportError:
        raise ValidationError(
            "--scheduler",
            address,
            'a Dask scheduler address with dask.distributed installed (pip install "spikemem[dask]"); '
            "or leave it out to run here",
        ) from None
    return _dask.check_address(address)


#: ``--scheduler``'s help, the same on every sweep.
SCHEDULER_HELP = (
    "run the launches on a Dask cluster: the scheduler's address (tcp://HOST:PORT); needs spikemem[dask] "
    "here and spikemem installed on the workers (README: Sweeps on a cluster)"
)


# --- table cells and the HDF5 file ---------------------------------------------------------


def pct(ok: int, total: int, decimals: int = 0) -> str:
    """``ok/total (percent%)`` for a table cell; ``-`` when nothing was counted."""
    return f"{ok}/{total} ({100.0 * ok / total:.{decimals}f}%)" if total else "-"


def ratio(a: float, b: float) -> float:
    """``a / b``; NaN where nothing was counted (``b`` is 0)."""
    return float(a) / float(b) if b else float("nan")


def run_provenance(device: str, started: str) -> dict[str, Any]:
    """Versions, host, command line, device and start/end times of a stress run."""
    from spikemem.provenance import now_utc, versions

    return {
        "versions": versions(),
        "host": os.uname().nodename,
        "command": " ".join(sys.argv),
        "device": device,
        "start_time_utc": started,
        "end_time_utc": now_utc(),
    }


def write_stress_file(path: str, file_format: str, tree: dict[str, Any]) -> None:
    """Write ``tree`` under ``/stress`` of a new HDF5 file tagged ``file_format``, atomically."""
    from spikemem.h5store import write_atomically, write_tree

    def fill(fh: Any) -> None:
        fh.attrs["format"] = file_format
        write_tree(fh, "stress", tree)

    write_atomically(path, fill)


def read_stress_file(path: str | os.PathLike[str], file_format: str, command: str) -> dict[str, Any]:
    """The ``/stress`` tree of a file written by ``command``; refused if it is another kind of file."""
    import h5py

    from spikemem.h5store import read_tree

    with h5py.File(path, "r") as fh:
        if fh.attrs.get("format") != file_format:
            raise ValidationError("file", str(path), f"a {file_format} file written by {command}")
        return read_tree(fh, "stress")
