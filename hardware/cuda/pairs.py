"""brian2cuda's check for repeated (pre, post) pairs, made linear where the order allows.

After creating the synapses of a ``Synapses`` object, brian2cuda's generated host code
decides whether two synapses share a (pre, post) pair — the flag
``<name>_multiple_pre_post``, which selects how the GPU applies synaptic effects — by
inserting every synapse into a ``std::map``:

.. math::

    \\text{multiple} = \\exists\\, k \\ne l:\\ (\\mathrm{pre}_k, \\mathrm{post}_k) =
    (\\mathrm{pre}_l, \\mathrm{post}_l)

in :math:`O(S \\log S)` time on one CPU thread with a tree node per synapse (brian2cuda
issue #88). The CA3 memory at N = M = 10 000 has two such Synapses of 10^8 synapses;
for each, the map alone takes 76 s and 6.2 GB, the linear pass 0.3 s and no memory
(``benchmarks/pair_check.py --size 10000``, one core of a 2-core machine).

Synapses created by a rule come out ordered by (pre, post). If the pairs are strictly
increasing, none repeats, which one pass over the arrays shows. :func:`linearise` puts
that pass before the map in each generated synapse-creation file and runs the map only
where the pass fails, so the flag, and the simulation, are exactly brian2cuda's. A
Synapses with a multisynaptic index needs the map's counts and is left as generated.
"""

from __future__ import annotations

import re
from pathlib import Path

MARK = "spikemem: pairs in strictly increasing (pre, post) order cannot repeat"

_MAP_LOOP = re.compile(
    r"(?P<indent>[ \t]*)std::map<std::pair<int32_t, int32_t>, int32_t> source_target_count;\n"
    r"(?P=indent)for \(int _i=0; _i<newsize; _i\+\+\)\n"
    r"(?P<body>(?P=indent)\{\n.*?\n(?P=indent)\}\n)",
    re.DOTALL,
)
_PAIR = re.compile(r"std::pair<int32_t, int32_t>\((?P<pre>\w+)\[_i\], (?P<post>\w+)\[_i\]\);")


def _linear(match: re.Match[str]) -> str:
    body = match["body"]
    pair = _PAIR.search(body)
    if pair is None or "= source_target_count[source_target];" in body:  # multisynaptic index
        return match[0]
    ind, pre, post = match["indent"], pair["pre"], pair["post"]
    return (
        f"{ind}// {MARK};\n"
        f"{ind}// the map below (brian2cuda's check) runs only where they are not\n"
        f"{ind}bool _spikemem_pairs_increasing = true;\n"
        f"{ind}for (int _i=1; _spikemem_pairs_increasing && _i<newsize; _i++)\n"
        f"{ind}    _spikemem_pairs_increasing = {pre}[_i-1] < {pre}[_i]\n"
        f"{ind}        || ({pre}[_i-1] == {pre}[_i] && {post}[_i-1] < {post}[_i]);\n"
        f"{ind}std::map<std::pair<int32_t, int32_t>, int32_t> source_target_count;\n"
        f"{ind}for (int _i=0; !_spikemem_pairs_increasing && _i<newsize; _i++)\n"
        f"{body}"
    )


def linearise(project: Path) -> list[str]:
    """Put the linear pass into every synapse-creation file of a generated brian2cuda
    ``project`` (module docstring); returns the names of the files changed. Files
    already changed, or whose check does not look as expected, are left alone."""
    changed = []
    for path in sorted((project / "code_objects").glob("*_synapses_create_*_codeobject.cu")):
        text = path.read_text()
        if MARK in text:
            continue
        new = _MAP_LOOP.sub(_linear, text)
        if new != text:
            path.write_text(new)
            changed.append(path.name)
    return changed
