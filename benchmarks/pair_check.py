"""brian2cuda's check for repeated (pre, post) pairs: its ``std::map`` vs spikemem's linear pass.

brian2cuda's generated host code puts every synapse of a Synapses object into a
``std::map`` to find out whether a (pre, post) pair repeats; ``hardware/cuda/pairs.py``
puts a linear pass before it that skips the map where the pairs strictly increase, as they
do for synapses created by a rule. This script takes the check from a project that
brian2cuda really generates (one all-to-all projection; once as brian2cuda writes it, once
with the pass), compiles each with g++ -O3 into a program that runs it on the
``N x N`` pairs of an all-to-all projection in creation order, and runs both side by side,
each in its own process. It prints the time of the check, the memory the check adds to
the process's peak (the pair arrays excluded) and brian2cuda's flag; the last line is
``pair_check_speedup=<map time / pass time>``.
Needs brian2cuda (the ``.venv-cuda`` venv) and g++; no GPU.

    .venv-cuda/bin/python benchmarks/pair_check.py --size 10000   # the CA3 memory at N = M = 10 000
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from spikemem.hardware.cuda.pairs import _PAIR  # the (pre, post) arrays the check reads

PROGRAM = """
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>
#include <sys/resource.h>
static long peak_kb() {{ struct rusage u; getrusage(RUSAGE_SELF, &u); return u.ru_maxrss; }}
static std::vector<int32_t> {pre}, {post};
static bool {flag} = false;
int main(int argc, char **argv) {{
    const int n = atoi(argv[1]);
    {pre}.reserve((size_t)n * n); {post}.reserve((size_t)n * n);
    for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {{ {pre}.push_back(i); {post}.push_back(j); }}
    const int newsize = (int){pre}.size();
    const long before_kb = peak_kb();
    const auto t0 = std::chrono::steady_clock::now();
    {{
{check}
    }}
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("%.6f %d %ld\\n", s, {flag} ? 1 : 0, peak_kb() - before_kb);
    return 0;
}}
"""


def generated_checks(folder: Path) -> dict[str, str]:
    """The check of an all-to-all projection's creation file as brian2cuda generates it
    (``map``) and with spikemem's pass (``linear``)."""
    from spikemem import AllToAll, IF_curr_exp, Network, Population, Projection, SpikeSource, Static
    from spikemem.hardware.cuda import target as cuda

    net = Network(
        [SpikeSource("pre", [[1.0]] * 4), Population("post", 4, IF_curr_exp())],
        [Projection("syn", "pre", "post", AllToAll(), Static(weight=0.1, delay=1.0))],
    )
    checks = {}
    for side in ("map", "linear"):
        linearise = cuda.linearise
        if side == "map":
            cuda.linearise = lambda project: []  # the project as brian2cuda writes it
        try:
            project = cuda.export(net, folder / side, duration_ms=5.0)
        finally:
            cuda.linearise = linearise
        text = next((project / "code_objects").glob("syn_synapses_create_*_codeobject.cu")).read_text()
        start = text.index("// spikemem:") if side == "linear" else text.index("std::map<std::pair")
        start = text.rindex("\n", 0, start) + 1
        loop = re.compile(r"\n(?P<ind>[ \t]*)for \(int _i=0;[^\n]*_i<newsize; _i\+\+\)\n.*?\n(?P=ind)\}\n", re.DOTALL)
        checks[side] = text[start : loop.search(text, start).end()]
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10000, help="N: the pairs of an N x N all-to-all projection")
    args = parser.parse_args(argv)
    if not 1 <= args.size <= 46000:
        parser.error(f"--size must be between 1 and 46000 (N x N pairs in an int32 count), got {args.size}")
    times = {}
    with tempfile.TemporaryDirectory(prefix="spikemem-pairs-") as tmp:
        folder = Path(tmp)
        checks = generated_checks(folder)
        for side in ("linear", "map"):
            check = checks[side]
            pre, post = _PAIR.search(check).group("pre", "post")
            flag = re.search(r"(\w+_multiple_pre_post) = true;", check)[1]
            source = folder / f"check-{side}.cpp"
            source.write_text(PROGRAM.format(pre=pre, post=post, flag=flag, check=check))
            binary = folder / f"check-{side}"
            subprocess.run(["g++", "-O3", "-std=c++17", "-o", str(binary), str(source)], check=True)
            out = subprocess.run([str(binary), str(args.size)], capture_output=True, text=True, check=True).stdout
            seconds, multiple, extra_kb = out.split()
            times[side] = float(seconds)
            print(
                f"{side:<6} {args.size**2:>12,d} pairs  check {float(seconds):9.3f} s  "
                f"memory it adds {int(extra_kb) / 1e6:5.2f} GB  repeated pairs: {bool(int(multiple))}",
                flush=True,
            )
    print(f"pair_check_speedup={times['map'] / max(times['linear'], 1e-9):.0f}  (N x N = {args.size}^2 pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
