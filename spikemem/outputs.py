"""Output paths: checked before any work, written whole or not at all, nothing left behind.

Every command checks each of its output paths before it builds or simulates anything
(:func:`check_outputs`):

* the folder it goes in exists and this user can create files there (tried, not guessed:
  ``root`` passes every permission test but still cannot write to ``/proc``);
* the path itself is absent, or a regular file for a file output (a folder for a folder
  output); a symbolic link is **refused**, not followed — say the file it points to;
* no two outputs of one command share a path (one would silently overwrite the other).

Files are then written atomically (:func:`replacing`): to a hidden temporary
``.NAME.<pid>.<random>.part`` beside the target, renamed over it only when complete. The
result keeps the mode of the file it replaces, or gets the one the umask gives a new file.
A temporary file is removed when its writer fails, is interrupted (Ctrl-C) or is terminated
(``SIGTERM``: the command line turns it into an exception, see :mod:`spikemem.cli`); only a
``SIGKILL`` can leave one behind, and the next write of the same target removes those whose
writer (by process id) is gone.
"""

from __future__ import annotations

import glob
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .errors import ValidationError

#: What an output is: one file, or a folder the target fills.
KINDS = ("file", "folder")


def check_output(field: str, path: str | os.PathLike[str], kind: str = "file") -> Path:
    """Refuse ``path`` (given as ``field``) unless an output of ``kind`` can be written there."""
    text = os.fspath(path)
    if not text:
        raise ValidationError(field, text, "a path")
    target = Path(text)
    if target.is_symlink():
        raise ValidationError(
            field, text, f"not a symbolic link: links are refused, not followed (give {os.path.realpath(text)!r})"
        )
    if target.exists():
        mode = target.stat().st_mode
        if kind == "file" and not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise ValidationError(field, text, f"a file name ({text!r} is {what})")
        if kind == "folder" and not stat.S_ISDIR(mode):
            raise ValidationError(field, text, f"a folder name ({text!r} is a file)")
    parent = target.absolute().parent
    if kind == "folder":  # a folder output is made with its missing parents: the nearest one there must take it
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
    if not parent.is_dir():
        raise ValidationError(field, text, f"a path in an existing folder ({str(parent)!r} is not one)")
    if not _can_create_in(parent):
        raise ValidationError(field, text, f"a path in a folder you can write to ({str(parent)!r} is not)")
    return target


def check_outputs(paths: Mapping[str, str | os.PathLike[str] | None], folders: tuple[str, ...] = ()) -> None:
    """Check every output of one command (``{field: path}``; None is no output); the fields
    in ``folders`` are folder outputs. Two fields naming one file are refused."""
    seen: dict[str, str] = {}
    for field, path in paths.items():
        if path is None:
            continue
        target = check_output(field, path, "folder" if field in folders else "file")
        key = os.path.normcase(os.path.realpath(target))
        if key in seen:
            raise ValidationError(field, os.fspath(path), f"a path other than {seen[key]}'s: each output needs its own")
        seen[key] = field


@contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed over ``path`` when the body ends
    without error, removed otherwise (see the module docstring)."""
    target = Path(path)
    folder = target.absolute().parent
    remove_stale_parts(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`replacing`); return the path."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def remove_stale_parts(target: Path) -> list[Path]:
    """Remove the temporary files of earlier writes of ``target`` whose process is gone."""
    removed = []
    for part in target.absolute().parent.glob(f".{glob.escape(target.name)}.*.part"):
        pid = part.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mode_for(target: Path) -> int:
    """The replaced file's permission bits, or a new file's under the current umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _can_create_in(folder: Path) -> bool:
    try:
        fd, probe = tempfile.mkstemp(prefix=".spikemem-write-test.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True
