"""A sweep's resume file and the lock on a sweep's outputs.

The resume file keeps the points a sweep has finished, so a killed sweep restarts where it
stopped (``--resume``). Its contract:

- line 1 is a header: ``{"resume": "spikemem-sweep/1", "config": DIGEST, "fields": {...}}``,
  the config that wrote the file (its digest and its fields);
- every other line is one finished point, ``{"config": DIGEST, "result": {...}}``, written
  whole (one ``write``) and fsynced before the next point is recorded;
- a line counts once it ends with a newline: a last line without one is what a kill in the
  middle of a write leaves, and is dropped (it is rerun);
- anything else, anywhere, refuses the file before any work, in one line naming the file
  and the line: bytes that are not UTF-8, a line that is not a JSON object, a field of the
  wrong type (each result is checked against the experiment's result schema), a point the
  config does not have, a header from another config (the fields that differ are named);
- a run without ``--resume`` replaces the file by a new header; a run with ``--resume``
  rewrites it (atomically) with the header and the points it keeps, then appends.

Files written before the header existed (result lines only) are still read; a line of
another config in them is refused by its digest.

The lock (:func:`claimed`) keeps two sweeps off the same output: the second one is refused
in one line naming the process (pid, host) that holds it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from spikemem.errors import SpikememError
from spikemem.outputs import replacing

#: The header's ``resume`` value: the version of this contract.
FORMAT = "spikemem-sweep/1"
#: What a refusal of a resume file suggests.
HINT = "remove that line to rerun its point, or leave out --resume to start over"

#: A result schema: a type (``str``, ``int``, ``float``, ``bool``, ``dict``, ``list``), a dict
#: ``{field: schema}`` (those fields at least), a one-item list ``[schema]`` (a list of such
#: items), a tuple of schemas (any of them; ``None`` allows null).
Schema = Any


class ResumeFileError(SpikememError):
    """A resume file that cannot be resumed from: names the file, the line and what is wrong."""

    def __init__(self, path: Path, line: int, problem: str, hint: str = HINT) -> None:
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f"resume file {path} line {line}: {problem} ({hint})")


class OutputBusy(SpikememError):
    """Another run holds the lock on a sweep's output and resume file."""

    def __init__(self, what: str, holder: dict[str, Any], lock: Path) -> None:
        self.holder = holder
        who = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"
        since = f", since {holder['since']}" if holder.get("since") else ""
        command = f" ({holder['command']})" if holder.get("command") else ""
        super().__init__(
            f"{what} is in use by another run: {who}{since}{command} holds {lock}; "
            "wait for it to finish or choose another --out"
        )


# --- the schema of a result ------------------------------------------------------------------


def schema_problem(value: Any, schema: Schema, where: str) -> str | None:
    """What makes ``value`` not fit ``schema`` (``where`` names it), or None if it fits."""
    if isinstance(schema, tuple):
        problems = [schema_problem(value, s, where) for s in schema if s is not None]
        if (value is None and None in schema) or None in problems:
            return None
        return problems[0] if problems else f"{where} = {_short(value)} is not null"
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return f"{where} = {_short(value)} is not an object"
        for name, sub in schema.items():
            if name not in value:
                return f"{where} has no field {name!r}"
            problem = schema_problem(value[name], sub, f"{where}.{name}")
            if problem:
                return problem
        return None
    if isinstance(schema, list):
        if not isinstance(value, list):
            return f"{where} = {_short(value)} is not a list"
        return next((p for k, v in enumerate(value) if (p := schema_problem(v, schema[0], f"{where}[{k}]"))), None)
    if _fits(value, schema):
        return None
    return f"{where} = {_short(value)} is not {_TYPE_NAMES.get(schema, schema.__name__)}"


_TYPE_NAMES = {str: "text", int: "an integer", float: "a number", bool: "true or false", dict: "an object"}


def _fits(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- reading ---------------------------------------------------------------------------------


def config_fields(config: Any) -> dict[str, Any]:
    """A config's fields as JSON values (a dataclass's fields, tuples as lists)."""
    fields = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(vars(config))
    return json.loads(json.dumps(fields))


def header(config: Any) -> dict[str, Any]:
    """Line 1 of a resume file: the config that writes it."""
    return {"resume": FORMAT, "config": config.digest(), "fields": config_fields(config)}


def load(path: Path, config: Any, schema: Schema = None) -> dict[str, dict[str, Any]]:
    """The finished points of ``config`` in the resume file at ``path``, by key (none if it does
    not exist); refused with :class:`ResumeFileError` if it breaks the contract above."""
    if not path.exists():
        return {}
    wanted = {p.key for p in config.points()}
    digest = config.digest()
    fields: dict[str, Any] | None = None
    done: dict[str, dict[str, Any]] = {}
    for number, entry in _entries(path):
        if number == 1 and isinstance(entry.get("resume"), str):
            fields = _checked_header(path, entry, config)
            continue
        if "resume" in entry:
            raise ResumeFileError(path, number, "a header after line 1")
        result = _checked_entry(path, number, entry, schema, digest, fields, config)
        if result["key"] not in wanted:
            raise ResumeFileError(path, number, f"point {result['key']!r} is not a point of this sweep")
        done[result["key"]] = result
    return done


def _entries(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, JSON object) of each whole line; a last line without its newline is dropped."""
    lines = path.read_bytes().split(b"\n")[:-1]  # the text after the last newline is torn or empty
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problem = f"byte {raw[exc.start]:#04x} at column {exc.start + 1} is not UTF-8"
            raise ResumeFileError(path, number, problem) from None
        try:
            entry = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ResumeFileError(path, number, f"not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(entry, dict):
            raise ResumeFileError(path, number, f"a JSON {type(entry).__name__}, not an object")
        yield number, entry


def _checked_header(path: Path, entry: dict[str, Any], config: Any) -> dict[str, Any]:
    if entry["resume"] != FORMAT:
        raise ResumeFileError(path, 1, f"resume format {entry['resume']!r}; this spikemem reads {FORMAT!r}")
    fields = entry.get("fields")
    if not isinstance(fields, dict) or not isinstance(entry.get("config"), str):
        raise ResumeFileError(path, 1, "a header without the config's digest and fields")
    if entry["config"] != config.digest():
        raise _another_config(path, 1, fields, config)
    return fields


def _checked_entry(
    path: Path,
    number: int,
    entry: dict[str, Any],
    schema: Schema,
    digest: str,
    fields: dict[str, Any] | None,
    config: Any,
) -> dict[str, Any]:
    problem = schema_problem(entry, {"config": str, "result": {"key": str}}, "entry")
    problem = problem or (schema_problem(entry["result"], schema, "result") if schema is not None else None)
    if problem:
        raise ResumeFileError(path, number, problem)
    if entry["config"] != digest:
        if fields is not None:
            raise ResumeFileError(path, number, f"config {entry['config']!r} is not the header's {digest!r}")
        raise _another_config(path, number, None, config, entry["config"])
    return entry["result"]


def _another_config(
    path: Path, number: int, fields: dict[str, Any] | None, config: Any, digest: str = "?"
) -> ResumeFileError:
    """The refusal of a file written by another config, naming the fields that differ."""
    hint = "leave out --resume to start over, or resume with the config that wrote it"
    if fields is None:
        return ResumeFileError(
            path, number, f"written by another config (digest {digest}, not {config.digest()})", hint
        )
    now = config_fields(config)
    differ = [
        f"{name} = {_short(fields.get(name))} there, {_short(now.get(name))} now"
        for name in sorted(set(fields) | set(now))
        if fields.get(name) != now.get(name)
    ]
    return ResumeFileError(path, number, "written by another config: " + "; ".join(differ or ["digest differs"]), hint)


# --- writing ---------------------------------------------------------------------------------


class Log:
    """The resume file of a running sweep: started with the header and the points kept, then
    one fsynced line per finished point (:meth:`add`). A context manager."""

    def __init__(self, path: Path, config: Any, kept: dict[str, dict[str, Any]]) -> None:
        self.path, self.digest = path, config.digest()
        lines = [header(config)] + [{"config": self.digest, "result": r} for r in kept.values()]
        _write_atomically(path, "".join(json.dumps(line) + "\n" for line in lines))
        self._fh: TextIO = open(path, "a", encoding="utf-8")

    def add(self, result: dict[str, Any]) -> None:
        """Record one finished point (on disk when this returns)."""
        self._fh.write(json.dumps({"config": self.digest, "result": result}) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def _write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` through :func:`spikemem.outputs.replacing` (never half-written),
    on disk before it returns: the file and then its folder fsynced."""
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- the lock on a sweep's outputs -----------------------------------------------------------


def lock_path(resume_file: Path) -> Path:
    """The lock file of a sweep whose resume file is ``resume_file`` (``OUT.resume.lock``)."""
    return resume_file.with_suffix(".lock")


@contextlib.contextmanager
def claimed(resume_file: Path, what: str) -> Iterator[None]:
    """Hold the lock of the sweep writing ``resume_file`` (and the output it is named after)
    while the block runs; if another process holds it, refuse at once with
    :class:`OutputBusy` naming ``what`` and the holder. The lock dies with its process
    (an advisory ``flock``), so a killed run never leaves its output locked."""
    path = lock_path(resume_file)
    fd = _acquire(path, what)
    try:
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now(), "command": _command()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while still held: a process waiting on this file sees it gone and retries
        os.close(fd)


def _acquire(path: Path, what: str) -> int:
    """An open, exclusively locked descriptor of the lock file at ``path``."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise OutputBusy(what, holder, path) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder removed this file as it let go: lock the new one


def _holder(fd: int) -> dict[str, Any]:
    """Who holds a lock, as it wrote itself into the lock file (empty if not yet written)."""
    for _ in range(20):  # the holder writes itself in just after locking
        raw = os.pread(fd, 4096, 0)
        with contextlib.suppress(ValueError):
            holder = json.loads(raw.decode("utf-8"))
            if isinstance(holder, dict):
                return holder
        time.sleep(0.05)
    return {}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _command() -> str:
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else []
    return " ".join(argv)[:200]
