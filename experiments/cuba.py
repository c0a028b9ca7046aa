"""``spikemem run cuba``: the Vogels–Abbott CUBA network, a standard simulator benchmark."""

from __future__ import annotations

import argparse

from spikemem import _checks as chk
from spikemem import budget, target_options
from spikemem.experiment import Experiment, Report, check_output_paths
from spikemem.models.cuba import check_size, cuba_network, cuba_raster
from spikemem.simulate import simulate

DT_MS = 0.1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--neurons", type=int, default=4000, help="neurons, 80 %% excitatory, at least 2 (default 4000)")
    p.add_argument("--duration", type=float, default=1000.0, help="simulated ms (default 1000)")
    p.add_argument("--target", default="brian2", help="where to run (default brian2; see `spikemem targets`)")
    p.add_argument("--seed", type=int, default=0, help="seed of the run (connectivity uses seed + 1; default 0)")
    p.add_argument("--out", help="results HDF5 file")
    p.add_argument("--plot", help="raster image file")
    target_options.add_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> Report:
    check_output_paths(args)
    neurons = check_size("--neurons", args.neurons)
    duration = chk.positive("--duration", args.duration)
    budget.check_steps("--duration", duration, DT_MS)
    seed = chk.seed("--seed", args.seed)
    net = cuba_network(neurons, seed=seed + 1, dt=DT_MS)
    budget.check_network(net, duration, "--neurons", args.neurons)
    options = target_options.parse_options(args.option)
    res = simulate(net, duration, target=args.target, seed=seed, progress=not args.no_progress, **options)
    files = []
    if args.out:
        res.save(args.out)
        files.append(args.out)
    if args.plot:
        cuba_raster(res, args.plot)
        files.append(args.plot)
    rows = [[pop, st.size, len(st), len(st) / st.size / (duration / 1000)] for pop, st in res.spikes.items()]
    prov = res.provenance
    metrics = {"engine": f"{prov['target']}, build {prov['build_s']:.2f} s, run {prov['run_s']:.2f} s"}
    if prov.get("simulated") is False:
        metrics["spikes"] = "none: the target mapped the network without simulating it"
    return Report(
        f"CUBA network, {duration:g} ms", ["population", "neurons", "spikes", "rate (Hz)"], rows, metrics, files
    )


EXPERIMENTS = [Experiment("cuba", "the Vogels–Abbott CUBA benchmark network", add_arguments, run)]
