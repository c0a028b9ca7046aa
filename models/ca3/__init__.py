"""The CA3 content-addressable memory (Casanueva-Morato et al., Neural Networks 178:106474, 2024).

Learns cue ↔ content associations in one shot, recalls a memory's content from its cue,
recalls the memories that match any fragment of content, and forgets by overwriting, in
two circuits (``mode``):

``fidelity``
    the published circuit with SpiNNaker's semantics (:mod:`.fidelity`);
``functional``
    spikemem's improved circuit (:mod:`.functional`).

=============  ======================================================================
``schedule``   the JSON contract: ops, validation, seeded random streams, retiming
``circuit``    what a circuit is to the code that runs it (the :class:`Circuit` base)
``fidelity``   the published circuit and its encoding, spacing and decoding
``functional`` spikemem's circuit and its encoding, spacing and decoding
``modes``      the two circuits by mode name
``memory``     the ideal memory: expected answers, scores, forgetting probes
``run``        :func:`run_ca3`, :func:`run_ca3_batch`: simulate a schedule, decode it
``paper``      the paper's functional test (exp. 1) and pyramidal test (exp. 2)
``plot``       a raster with the operations marked
=============  ======================================================================

Registered as the model ``ca3`` (``spikemem export ca3 -h``).
"""

from __future__ import annotations

import argparse

from spikemem.errors import ValidationError
from spikemem.model import Model
from spikemem.network import Network

from .circuit import Circuit
from .memory import COUNTS, evaluate, expected, expected_answers
from .modes import CIRCUITS, MODES, circuit
from .paper import EXP1_DURATION_MS, EXP2_DURATION_MS, paper_schedule
from .plot import ca3_raster
from .run import CA3Run, ca3_network, decode, duration_ms, encode, run_ca3, run_ca3_batch, validate
from .schedule import MATCHES, Op, Schedule, load_schedule, parse_schedule, random_schedule, respace

__all__ = [
    "CIRCUITS",
    "COUNTS",
    "EXP1_DURATION_MS",
    "EXP2_DURATION_MS",
    "MATCHES",
    "MODELS",
    "MODES",
    "CA3Run",
    "Circuit",
    "Op",
    "Schedule",
    "ca3_network",
    "ca3_raster",
    "circuit",
    "decode",
    "duration_ms",
    "encode",
    "evaluate",
    "expected",
    "expected_answers",
    "load_schedule",
    "paper_schedule",
    "parse_schedule",
    "random_schedule",
    "respace",
    "run_ca3",
    "run_ca3_batch",
    "validate",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``spikemem export ca3``."""
    p.add_argument("--schedule", help="schedule JSON file (its inputs are part of the network)")
    p.add_argument("--n-cues", type=int, default=None, help="without a schedule: number of cues (default 5)")
    p.add_argument("--n-bits", type=int, default=None, help="without a schedule: content bits (default 10)")
    p.add_argument(
        "--mode",
        choices=MODES,
        default="functional",
        help="; ".join(f"{c.name}: {c.description}" for c in CIRCUITS.values()) + " (default functional)",
    )


def _schedule(args: argparse.Namespace) -> Schedule:
    if args.schedule:
        for option in ("n_cues", "n_bits"):
            if getattr(args, option) is not None:
                raise ValidationError(
                    f"--{option.replace('_', '-')}", getattr(args, option), "left out with --schedule"
                )
        return load_schedule(args.schedule)
    n_cues = 5 if args.n_cues is None else args.n_cues
    n_bits = 10 if args.n_bits is None else args.n_bits
    return parse_schedule({"n_cues": n_cues, "n_bits": n_bits, "ops": []}, fields=("--n-cues", "--n-bits"))


def network(args: argparse.Namespace) -> Network:
    """The CA3 network of ``args``: the schedule's (inputs included), or an empty memory."""
    return ca3_network(_schedule(args), args.mode)


def default_duration_ms(args: argparse.Namespace) -> float:
    """The schedule's length (its last op answered); 1 s without a schedule."""
    return duration_ms(load_schedule(args.schedule), args.mode) if args.schedule else 1000.0


MODELS = [
    Model(
        "ca3",
        "the CA3 content-addressable memory: one-shot learning, recall by cue or by any fragment, forgetting",
        network,
        default_duration_ms,
        add_arguments,
        ca3_raster,
    )
]
