"""The ``spikemem`` command.

``spikemem targets``                       capability matrix of every target
``spikemem info FILE.h5``                  summary of a results or network file
``spikemem run EXPERIMENT [options]``      run a registered experiment (``spikemem run -h``)
``spikemem stress NAME [options]``         run a stress experiment
``spikemem export MODEL --target T --out PATH``  write a model for a simulator or chip

Errors print one line (``--debug`` shows the traceback).
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikemem`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikemem", description="Spiking memory circuits on every simulator.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = sub.add_parser("targets", help="list targets and what each supports")
    p.set_defaults(handler=cmd_targets)

    p = sub.add_parser("info", help="summarise a results or network HDF5 file")
    p.add_argument("file")
    p.set_defaults(handler=cmd_info)

    for command, title in (("run", "run an experiment"), ("stress", "run a stress experiment")):
        p = sub.add_parser(command, help=title)
        exp_sub = p.add_subparsers(title="experiments", metavar="EXPERIMENT")
        for exp in all_experiments(command).values():
            e = exp_sub.add_parser(exp.name, help=exp.help, description=exp.help)
            exp.add_arguments(e)
            e.set_defaults(handler=lambda args, exp=exp: _run_experiment(exp, args))

    p = sub.add_parser("export", help="write a model for another simulator or chip")
    p.add_argument("model", help="a registered model (ca3, cuba) or an HDF5 network file")
    p.add_argument("--target", required=True, help="hdf5, pynn-script, or a target that exports (nir, spinnaker, cuda)")
    p.add_argument("--out", required=True, help="output file or folder")
    _model_arguments(p)
    target_options.add_argument(p, "export option", "compile=true, freeze_plasticity=true")
    p.set_defaults(handler=cmd_export)
    return parser


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
    extra = {k: v for k, v in prov.items() if k.startswith("ca3_") or k in ("build_s", "run_s")}
    for key, value in extra.items():
        if key != "ca3_schedule":
            print(f"{key}: {value}")
    return 0


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


def _model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--schedule", help="ca3: schedule JSON file")
    p.add_argument("--n-cues", type=int, default=None, help="ca3 without a schedule: number of cues (default 5)")
    p.add_argument("--n-bits", type=int, default=None, help="ca3 without a schedule: content bits (default 10)")
    p.add_argument("--mode", choices=("fidelity", "functional"), default="functional", help="ca3 circuit")
    p.add_argument("--neurons", type=int, default=4000, help="cuba: number of neurons")


def model_network(args: argparse.Namespace) -> Any:
    """The network named by ``spikemem export MODEL ...``."""
    if args.model.endswith((".h5", ".hdf5")):
        from .io import load_network

        return load_network(args.model)
    if args.model == "ca3":
        from spikemem.models.ca3 import ca3_network
        from spikemem.models.ca3_schedule import Schedule, load_schedule

        if args.schedule:
            schedule = load_schedule(args.schedule)
        else:
            schedule = Schedule(args.n_cues or 5, args.n_bits or 10, ())
        return ca3_network(schedule, args.mode)
    if args.model == "cuba":
        from spikemem.models.cuba import cuba_network

        return cuba_network(args.neurons)
    raise ValidationError("MODEL", args.model, "ca3, cuba, or an HDF5 network file (.h5)")


def cmd_export(args: argparse.Namespace) -> int:
    from .io import save_network
    from .targets import all_targets

    network = model_network(args)
    options = target_options.parse_options(args.option)
    if args.target == "hdf5":
        save_network(network, args.out)
    elif args.target == "pynn-script":
        from spikemem.hardware.pynn_script import write_script

        options.setdefault("duration_ms", _model_duration(args))
        write_script(network, args.out, **options)
    else:
        targets = all_targets()
        if args.target not in targets or not targets[args.target][0].supports("export"):
            exporting = ["hdf5", "pynn-script"] + [n for n, (i, _) in targets.items() if i.supports("export")]
            raise ValidationError("--target", args.target, "one of " + ", ".join(exporting))
        from .targets import resolve

        _, module, _ = resolve(args.target)
        module.export(network, args.out, **options)
    print(f"wrote {args.out}")
    return 0


def _model_duration(args: argparse.Namespace) -> float:
    """How long an exported script should run: the schedule's length for ca3, else 1 s."""
    if args.model == "ca3" and args.schedule:
        from spikemem.models.ca3 import duration_ms
        from spikemem.models.ca3_schedule import load_schedule

        return duration_ms(load_schedule(args.schedule), args.mode)
    return 1000.0


if __name__ == "__main__":
    raise SystemExit(main())
