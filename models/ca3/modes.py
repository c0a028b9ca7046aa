"""The CA3 circuits by mode name: ``fidelity`` (the published circuit) and ``functional``."""

from __future__ import annotations

from spikemem.errors import ValidationError

from .circuit import Circuit
from .fidelity import FIDELITY
from .functional import FUNCTIONAL

CIRCUITS: dict[str, Circuit] = {c.name: c for c in (FIDELITY, FUNCTIONAL)}
MODES = tuple(CIRCUITS)


def circuit(mode: str | Circuit) -> Circuit:
    """The circuit of ``mode`` (a circuit is returned as it is); an unknown mode is refused."""
    if isinstance(mode, Circuit):
        return mode
    if mode not in CIRCUITS:
        raise ValidationError("mode", mode, "one of " + ", ".join(MODES))
    return CIRCUITS[mode]
