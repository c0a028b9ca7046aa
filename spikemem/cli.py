"""The ``spikemem`` command.

``spikemem targets``                       capability matrix of every target
``spikemem models``                        the registered models and their options
``spikemem info FILE.h5``                  summary of a results or network file
``spikemem run EXPERIMENT [options]``      run a registered experiment (``spikemem run -h``)
``spikemem stress NAME [options]``         run a stress experiment
``spikemem export MODEL --target T --out PATH``  write a model for a simulator or chip
``spikemem export FILE.h5 --target T --out PATH``  the same for a saved network

Models, experiments and targets are found through their registries
(:mod:`spikemem.model`, :mod:`spikemem.experiment`, :mod:`spikemem.targets`); this module
imports none of them itself. Errors print one line (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from . import target_options
from .errors import SpikememError, ValidationError
from .experiment import all_experiments, format_table
from .model import Model, all_models

#: ``spikemem export`` of a saved network: the pseudo-model that reads one.
NETWORK_FILE = "network"
NETWORK_SUFFIXES = (".h5", ".hdf5")


class CommandLineError(SpikememError):
    """A command line argparse cannot parse (printed as one line, like every error)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CommandLineError(f"{self.prog}: {message} (see {self.prog} -h)")


#: Exit statuses of the ``spikemem`` command (README: exit status).
EXIT_OK = 0  # done; every answer right
EXIT_WRONG_ANSWERS = 1  # done, but some answers are wrong (run ca3, ca3-exp1, ca3-exp2)
EXIT_REFUSED = 2  # refused before any work: bad input, a missing target, an output in use
EXIT_FAILED = 3  # work started and failed (a simulator, a worker), or a bug in spikemem
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM


class Terminated(KeyboardInterrupt):
    """``SIGTERM``, raised where the program is, so that it unwinds as for Ctrl-C and
    removes its temporary files (a second ``SIGTERM`` kills at once)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikemem`` console script; returns the exit status (``EXIT_*``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _flag(argv, "--debug")
    if _flag(argv, "--no-limits"):
        os.environ["SPIKEMEM_NO_LIMITS"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        parser = build_parser()
        if not argv:
            parser.print_help()
            return EXIT_REFUSED
        args = parser.parse_args(_network_file_shorthand(argv))
        return int(args.handler(args) or EXIT_OK)
    except SpikememError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if debug:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (spikemem --debug ... shows where)", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)


def _flag(argv: list[str], flag: str) -> bool:
    """Whether ``flag`` is in ``argv`` (removed from it: it may stand anywhere)."""
    found = flag in argv
    while flag in argv:
        argv.remove(flag)
    return found


def _network_file_shorthand(argv: list[str]) -> list[str]:
    """``spikemem export FILE.h5 ...`` is ``spikemem export network FILE.h5 ...``."""
    if len(argv) > 1 and argv[0] == "export" and argv[1].lower().endswith(NETWORK_SUFFIXES):
        return ["export", NETWORK_FILE, *argv[1:]]
    return argv


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spikemem", description="Spiking memory circuits on every simulator.")
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser.add_argument(
        "--no-limits",
        action="store_true",
        help="skip the memory and core checks (runs that may not fit this machine; time steps stay bounded)",
    )
    sub = parser.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, dest="command", required=True
    )

    p = sub.add_parser("targets", help="list targets and what each supports")
    p.set_defaults(handler=cmd_targets)

    p = sub.add_parser("models", help="list the models and their options")
    p.set_defaults(handler=cmd_models)

    p = sub.add_parser("info", help="summarise a results or network HDF5 file")
    p.add_argument("file")
    p.set_defaults(handler=cmd_info)

    for command, title in (("run", "run an experiment"), ("stress", "run a stress experiment")):
        p = sub.add_parser(command, help=title)
        exp_sub = p.add_subparsers(
            title="experiments", metavar="EXPERIMENT", parser_class=_Parser, dest="experiment", required=True
        )
        for exp in all_experiments(command).values():
            e = exp_sub.add_parser(exp.name, aliases=list(exp.aliases), help=exp.help, description=exp.help)
            exp.add_arguments(e)
            e.set_defaults(handler=lambda args, exp=exp: _run_experiment(exp, args))

    p = sub.add_parser(
        "export",
        help="write a model for another simulator or chip",
        description="Write a model (or a network saved in HDF5: spikemem export FILE.h5 ...) for a simulator or "
        "chip. `spikemem export MODEL -h` lists that model's options.",
    )
    model_sub = p.add_subparsers(title="models", metavar="MODEL", parser_class=_Parser, dest="model", required=True)
    for model in all_models().values():
        m = model_sub.add_parser(model.name, help=model.help, description=model.help)
        model.add_arguments(m)
        _export_arguments(m)
        m.set_defaults(handler=lambda args, model=model: cmd_export(model, args))
    f = model_sub.add_parser(NETWORK_FILE, help="a network saved in HDF5 (spikemem export FILE.h5 ... for short)")
    f.add_argument("file", help="the network file (spikemem.save_network, or spikemem export ... --target hdf5)")
    _export_arguments(f)
    f.set_defaults(handler=lambda args: cmd_export(_saved_network(args.file), args))
    return parser


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True, help="where to send it: a target that exports (spikemem targets)")
    p.add_argument("--out", required=True, help="output file or folder")
    target_options.add_argument(p, "export option", "compile=true, freeze_plasticity=true")


def _version() -> str:
    from . import __version__

    return f"spikemem {__version__}"


def cmd_targets(args: argparse.Namespace) -> int:
    from .targets import FEATURES, all_targets

    rows = []
    for name, (info, _) in all_targets().items():
        marks = ["yes" if info.supports(f) else "-" for f in FEATURES]
        rows.append([name, "yes" if info.installed else "no"] + marks)
    print(format_table(["target", "installed"] + list(FEATURES), rows))
    print()
    for name, (info, _) in all_targets().items():
        extra = f" (variants: {', '.join(info.variants)})" if info.variants else ""
        hint = "" if info.installed else f"  install: {info.install_hint}"
        print(f"{name}: {info.description}{extra}{hint}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    rows = [[m.name, m.help, ", ".join(m.options()) or "-"] for m in all_models().values()]
    print(format_table(["model", "what", "options (spikemem export MODEL -h)"], rows))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """``spikemem info FILE``: what a network, results or stress file holds."""
    import h5py

    if os.path.isdir(args.file) or not os.path.exists(args.file):
        raise ValidationError("file", args.file, "an existing HDF5 file")
    try:
        with h5py.File(args.file, "r") as fh:
            fmt = str(fh.attrs.get("format", ""))
    except OSError:
        raise ValidationError("file", args.file, "an HDF5 file written by spikemem") from None
    show = _INFO.get(_format_kind(fmt))
    if show is None:
        kinds = "a network, results or stress file"
        raise ValidationError("file", args.file, f"an HDF5 file written by spikemem: {kinds} (format {fmt!r})")
    try:
        show(args.file, fmt)
    except (KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, SpikememError):
            raise
        raise ValidationError("file", args.file, f"a complete {fmt} file (part of it is missing: {exc})") from None
    return EXIT_OK


def _format_kind(fmt: str) -> str:
    """``spikemem-results-1`` → ``spikemem-results``; ``spikemem-stress-ca3/1`` → ``spikemem-stress-ca3``."""
    if "/" in fmt:
        return fmt.split("/", 1)[0]
    head, _, version = fmt.rpartition("-")
    return head if version.isdigit() else fmt


def _info_network(path: str, fmt: str) -> None:
    from .io import load_network

    net = load_network(path)
    print(f"network {net.name!r} (digest {net.digest()[:12]}), dt = {net.dt} ms")
    print(format_table(["key", "value"], [[k, v] for k, v in net.summary().items()]))


def _info_results(path: str, fmt: str) -> None:
    from .results import load_results

    res = load_results(path)
    prov = res.provenance
    print(
        f"results of {prov.get('network_name')!r} on {prov.get('target')} (seed {prov.get('seed')}), "
        f"{_value_text(prov.get('duration_ms'))} ms, started {prov.get('start_time_utc')}"
    )
    seconds = max(float(prov.get("duration_ms") or 0.0), 1e-9) / 1000
    rows = [[pop, st.size, len(st), f"{len(st) / max(st.size, 1) / seconds:.3g}"] for pop, st in res.spikes.items()]
    print(format_table(["population", "neurons", "spikes", "rate (Hz)"], rows))
    if res.traces or res.weights:
        print("traces: " + ", ".join(list(res.traces) + [f"{k}.weight" for k in res.weights]))
    _print_provenance(prov)


def _info_stress(path: str, fmt: str) -> None:
    import h5py

    from .h5store import read_tree

    with h5py.File(path, "r") as fh:
        tree = read_tree(fh, "stress")
    prov = tree.get("provenance", {})
    config = tree.get("config", {})
    points = tree.get("points", {})
    n_points = len(points.get("key", []))
    points_text = f"{n_points} point{'s' if n_points != 1 else ''}"
    print(f"stress sweep ({fmt}) on {config.get('target')}: {points_text}, started {prov.get('start_time_utc')}")
    table = tree.get("table", {})
    if table:
        print(format_table(table["columns"], table["rows"]))
    print("config: " + ", ".join(f"{k} {_value_text(v)}" for k, v in config.items() if _short(v)))
    _print_provenance(prov)


#: ``spikemem info`` by file format (without its version): the function that shows it.
_INFO = {"spikemem-network": _info_network, "spikemem-results": _info_results}
_INFO.update({f"spikemem-stress-{kind}": _info_stress for kind in ("ca3", "rram")})


def _print_provenance(prov: dict[str, Any]) -> None:
    versions = prov.get("versions", {})
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for key, value in prov.items():
        if key not in _HEADLINE and _short(value):
            print(f"{key}: {_value_text(value)}")


#: Provenance that ``spikemem info`` prints in its first lines (or not at all).
_HEADLINE = ("network_name", "network_digest", "target", "seed", "duration_ms", "dt_ms", "start_time_utc", "host")


def _short(value: Any) -> bool:
    """A provenance value worth a line of its own: a number, a flag or a short text."""
    if isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and len(value) <= 80


def _value_text(value: Any) -> str:
    """A value as a person reads it: ``0.09`` for 0.09006563500020093, ``1000`` for 1000.0."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _run_experiment(exp: Any, args: argparse.Namespace) -> int:
    report = exp.run(args)
    print(report.title)
    if report.rows:
        print(format_table(report.columns, report.rows))
    for key, value in report.metrics.items():
        print(f"{key}: {value}")
    for path in report.files:
        print(f"wrote {path}")
    return EXIT_OK if report.ok else EXIT_WRONG_ANSWERS


def _saved_network(path: str) -> Model:
    """The pseudo-model of ``spikemem export FILE.h5``: the saved network, run for 1 s."""
    from .io import load_network

    return Model(NETWORK_FILE, "a saved network", lambda args: load_network(path), lambda args: 1000.0)


def cmd_export(model: Model, args: argparse.Namespace) -> int:
    """``spikemem export MODEL``: the model's network, sent to an exporting target."""
    from .targets import check_options, exporters, resolve

    options = target_options.parse_options(args.option)
    found = exporters()
    if args.target not in found:
        raise ValidationError("--target", args.target, "one of " + ", ".join(found))
    info, module, _ = resolve(args.target)
    check_options(info, options, export=True)
    _check_export_paths(info, args.out)
    network = model.network(args)
    if info.export_duration:
        options.setdefault("duration_ms", model.duration_ms(args))
    module.export(network, args.out, **options)
    print(f"wrote {args.out}")
    return 0


def _check_export_paths(info: Any, out: str) -> None:
    """Every path ``spikemem export`` will write, checked before the network is built."""
    from pathlib import Path

    from .outputs import check_outputs

    paths = {"--out": out}
    paths.update({f"--out (its {suffix} file)": str(Path(out).with_suffix(suffix)) for suffix in info.export_beside})
    check_outputs(paths, folders=("--out",) if info.export_kind == "folder" else ())


if __name__ == "__main__":
    raise SystemExit(main())
