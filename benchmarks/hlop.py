"""HLOP's cost: 10 tasks of HLOP and of fine-tuning on Permuted-Digits-784, one after the other, in one run.

Both train the same spiking MLP (784-256-256-10 by default, 10 epochs per task, BPTT through
the ``norse`` target) on the same tasks and seed; HLOP adds the Oja updates of the lateral
neurons (5 iterations per minibatch, three layers) and the projection of every gradient.
Prints each wall time with its ACC / BWT and, last,

    hlop_overhead=<HLOP wall time / fine-tuning wall time>

(goal <= 2; and the whole HLOP run in <= 10 minutes on 2 cores). The two runs share the
machine's noise only if run back to back: this script does exactly that.

Usage: ``python benchmarks/hlop.py [--tasks 10] [--epochs 10] [--hidden 256] [--seed 0]``
(needs ``pip install 'spikemem[learn]'``).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=10)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    import torch

    from spikemem.experiments import _hlop_learning as learning
    from spikemem.models import hlop

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    tasks = hlop.permuted_digits(args.tasks, args.seed)
    config = learning.Config(hidden=args.hidden, epochs=args.epochs)
    if args.hidden <= 128:
        config.k0, config.k_inc = (24, 40, 24), (20, 20, 16)
    walls = {}
    for method in ("finetune", "hlop"):
        out = learning.continual(tasks, method, config, args.seed)
        walls[method] = out.wall_s
        print(f"{method:<9} wall {out.wall_s:7.1f} s   ACC {out.acc:6.2f} %   BWT {out.bwt:6.2f} %", flush=True)
    print(f"network 784-{args.hidden}-{args.hidden}-10, {args.tasks} tasks x {args.epochs} epochs, seed {args.seed}")
    print(f"hlop_overhead={walls['hlop'] / walls['finetune']:.2f}")


if __name__ == "__main__":
    main()
