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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikemem`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        parser = build_parser()
        args = parser.parse_args(_network_file_shorthand(argv))
        if not hasattr(args, "handler"):
            parser.print_help()
            return 0
        return int(args.handler(args) or 0)
    except SpikememError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _network_file_shorthand(argv: list[str]) -> list[str]:
    """``spikemem export FILE.h5 ...`` is ``spikemem export network FILE.h5 ...``."""
    if len(argv) > 1 and argv[0] == "export" and argv[1].lower().endswith(NETWORK_SUFFIXES):
        return ["export", NETWORK_FILE, *argv[1:]]
    return argv


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spikemem", description="Spiking memory circuits on every simulator.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("targets", help="list targets and what each supports")
    p.set_defaults(handler=cmd_targets)

    p = sub.add_parser("models", help="list the models and their options")
    p.set_defaults(handler=cmd_models)

    p = sub.add_parser("info", help="summarise a results or network HDF5 file")
    p.add_argument("file")
    p.set_defaults(handler=cmd_info)

    for command, title in (("run", "run an experiment"), ("stress", "run a stress experiment")):
        p = sub.add_parser(command, help=title)
        exp_sub = p.add_subparsers(title="experiments", metavar="EXPERIMENT", parser_class=_Parser)
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
    model_sub = p.add_subparsers(title="models", metavar="MODEL", parser_class=_Parser)
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
    import h5py

    from .io import load_network
    from .results import load_results

    if not os.path.exists(args.file):
        raise ValidationError("file", args.file, "an existing HDF5 file")
    try:
        with h5py.File(args.file, "r") as fh:
            fmt = str(fh.attrs.get("format", ""))
    except OSError:
        raise ValidationError("file", args.file, "an HDF5 file written by spikemem") from None
    if fmt.startswith("spikemem-network"):
        net = load_network(args.file)
        print(f"network {net.name!r} (digest {net.digest()[:12]}), dt = {net.dt} ms")
        print(format_table(["key", "value"], [[k, v] for k, v in net.summary().items()]))
        return 0
    res = load_results(args.file)
    prov = res.provenance
    print(
        f"results of {prov.get('network_name')!r} on {prov.get('target')} (seed {prov.get('seed')}), "
        f"{prov.get('duration_ms')} ms, started {prov.get('start_time_utc')}"
    )
    rows = [
        [pop, st.size, len(st), f"{len(st) / st.size / max(prov.get('duration_ms', 1), 1e-9) * 1000:.3g}"]
        for pop, st in res.spikes.items()
    ]
    print(format_table(["population", "neurons", "spikes", "rate (Hz)"], rows))
    if res.traces or res.weights:
        print("traces: " + ", ".join(list(res.traces) + [f"{k}.weight" for k in res.weights]))
    versions = prov.get("versions", {})
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for key, value in prov.items():
        if key not in _HEADLINE and _short(value):
            print(f"{key}: {value}")
    return 0


#: Provenance that ``spikemem info`` prints in its first lines (or not at all).
_HEADLINE = ("network_name", "network_digest", "target", "seed", "duration_ms", "dt_ms", "start_time_utc", "host")


def _short(value: Any) -> bool:
    """A provenance value worth a line of its own: a number, a flag or a short text."""
    if isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and len(value) <= 80


def _run_experiment(exp: Any, args: argparse.Namespace) -> int:
    report = exp.run(args)
    print(report.title)
    if report.rows:
        print(format_table(report.columns, report.rows))
    for key, value in report.metrics.items():
        print(f"{key}: {value}")
    for path in report.files:
        print(f"wrote {path}")
    return 0 if report.ok else 1


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
    network = model.network(args)
    if info.export_duration:
        options.setdefault("duration_ms", model.duration_ms(args))
    module.export(network, args.out, **options)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
