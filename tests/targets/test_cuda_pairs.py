"""The linear check for repeated (pre, post) pairs in brian2cuda's synapse creation
(``spikemem.hardware.cuda.pairs``).

The check is C++ that brian2cuda's generated host code runs; here it is compiled with
g++ into a small program that feeds it pair lists and prints brian2cuda's flag
``<name>_multiple_pre_post`` (true iff some pair repeats) and whether the linear pass
sufficed (then the map was skipped). Everywhere: a loop written in the shape brian2cuda
generates; where brian2cuda is installed: the files of a generated CA3 project.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_cuda import needs_brian2cuda

from spikemem.hardware import cuda
from spikemem.hardware.cuda import pairs
from spikemem.models import ca3

needs_gpp = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")

# The shape of brian2cuda's check (names as in a generated file, body reduced to what it does).
CHECK = """\
void create()
{
    std::map<std::pair<int32_t, int32_t>, int32_t> source_target_count;
    for (int _i=0; _i<newsize; _i++)
    {
        const std::pair<int32_t, int32_t> source_target = std::pair<int32_t, int32_t>(pre_idx[_i], post_idx[_i]);
        source_target_count[source_target]++;
        if (source_target_count[source_target] > 1)
        {
            syn_multiple_pre_post = true;
            break;
        }
    }
}
"""
MULTISYNAPTIC = CHECK.replace(
    "        source_target_count[source_target]++;\n",
    "        synapse_number[_i] = source_target_count[source_target];\n        source_target_count[source_target]++;\n",
)

CASES = [
    [],
    [(0, 0), (0, 1), (1, 0), (2, 5)],  # increasing: no repeat, map skipped
    [(1, 0), (0, 1), (0, 0)],  # unordered, no repeat
    [(0, 2), (0, 1)],  # same pre, post decreasing
    [(0, 1), (1, 0), (0, 1)],  # unordered repeat
    [(0, 1), (0, 1)],  # adjacent repeat
]


def _project_with(tmp_path: Path, text: str) -> Path:
    (tmp_path / "code_objects").mkdir()
    (tmp_path / "code_objects" / "syn_synapses_create_generator_codeobject.cu").write_text(text)
    return tmp_path


def _patched_check(text: str) -> tuple[str, str, str, str]:
    """The linear pass and the map loop after it, and the names of the pre and post arrays
    and of the flag, from a changed file."""
    found = re.search(
        r"[ \t]*// spikemem: pairs.*?\n(?P<ind>[ \t]*)for \(int _i=0; !_spikemem_pairs_increasing.*?\n(?P=ind)\}\n",
        text,
        re.DOTALL,
    )
    assert found is not None
    pair = pairs._PAIR.search(found[0])
    flag = re.search(r"(\w+_multiple_pre_post) = true;", found[0])
    assert pair and flag
    return found[0], pair["pre"], pair["post"], flag[1]


def _run_check(tmp_path: Path, snippet: str, pre: str, post: str, flag: str, cases: list) -> list[tuple[int, int, int]]:
    """(flag, linear pass sufficed, pairs the map holds) for each pair list, from the
    snippet compiled with g++."""
    source = f"""
#include <cstdint>
#include <cstdio>
#include <map>
#include <vector>
static std::vector<int32_t> {pre}, {post};
static bool {flag};
static void check(int *increasing, int *mapped) {{
    {flag} = false;
    const int newsize = (int){pre}.size();
{snippet}
    *increasing = _spikemem_pairs_increasing;
    *mapped = (int)source_target_count.size();
}}
int main() {{
    int n;
    while (scanf("%d", &n) == 1) {{
        {pre}.resize(n); {post}.resize(n);
        for (int k = 0; k < n; k++) if (scanf("%d %d", &{pre}[k], &{post}[k]) != 2) return 1;
        int increasing = -1, mapped = -1;
        check(&increasing, &mapped);
        printf("%d %d %d\\n", {flag} ? 1 : 0, increasing, mapped);
    }}
    return 0;
}}
"""
    (tmp_path / "check.cpp").write_text(source)
    subprocess.run(["g++", "-O1", "-std=c++17", "-o", str(tmp_path / "check"), str(tmp_path / "check.cpp")], check=True)
    feed = "".join(f"{len(c)} " + " ".join(f"{i} {j}" for i, j in c) + "\n" for c in cases)
    out = subprocess.run([str(tmp_path / "check")], input=feed, capture_output=True, text=True, check=True).stdout
    return [tuple(int(x) for x in line.split()) for line in out.splitlines()]


def _random_cases(seed: int = 3) -> list[list[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(40):
        n = int(rng.integers(1, 30))
        ij = [(int(i), int(j)) for i, j in rng.integers(0, 4, size=(n, 2))]
        cases.append(sorted(set(ij)) if k % 2 else ij)  # half strictly increasing
    return cases


def _assert_agrees(results: list[tuple[int, int, int]], cases: list) -> None:
    """brian2cuda's flag in every case; the map skipped exactly where the pairs increase."""
    for (multiple, increasing, mapped), case in zip(results, cases, strict=True):
        assert multiple == int(len(set(case)) < len(case)), case
        strictly = all(a < b for a, b in zip(case, case[1:]))
        assert increasing == int(strictly), case
        assert (mapped == 0) == strictly, case


@needs_gpp
def test_linear_pass_gives_brian2cudas_flag(tmp_path):
    project = _project_with(tmp_path, CHECK)
    assert pairs.linearise(project) == ["syn_synapses_create_generator_codeobject.cu"]
    path = project / "code_objects" / "syn_synapses_create_generator_codeobject.cu"
    snippet, pre, post, flag = _patched_check(path.read_text())
    assert (pre, post, flag) == ("pre_idx", "post_idx", "syn_multiple_pre_post")
    cases = CASES + _random_cases()
    _assert_agrees(_run_check(tmp_path, snippet, pre, post, flag, cases), cases)


def test_linearise_changes_a_file_once_and_leaves_multisynaptic_counts_alone(tmp_path):
    project = _project_with(tmp_path, CHECK)
    path = project / "code_objects" / "syn_synapses_create_generator_codeobject.cu"
    assert pairs.linearise(project) and pairs.MARK in path.read_text()
    once = path.read_text()
    assert pairs.linearise(project) == [] and path.read_text() == once
    path.write_text(MULTISYNAPTIC)  # the map's counts are the synapse numbers: keep the map
    assert pairs.linearise(project) == [] and path.read_text() == MULTISYNAPTIC
    path.write_text("int main() { return 0; }\n")  # not brian2cuda's shape: left as it is
    assert pairs.linearise(project) == []


@needs_gpp
@needs_brian2cuda
def test_generated_ca3_project_gets_the_linear_pass(tmp_path):
    """Every synapse-creation file of a generated CA3 project is changed, and the changed
    code of the plastic memory (created by rule) and of array-created synapses compiles
    and gives brian2cuda's flag."""
    schedule = ca3.paper_schedule("exp1")
    net = ca3.ca3_network(schedule, "fidelity", record="all")
    folder = cuda.export(net, tmp_path / "ca3", duration_ms=ca3.duration_ms(schedule, "fidelity"))
    files = sorted((folder / "code_objects").glob("*_synapses_create_*_codeobject.cu"))
    assert files and all(pairs.MARK in f.read_text() for f in files)
    memory = folder / "code_objects" / "memory_cue_to_content_synapses_create_generator_codeobject.cu"
    arrays = [f for f in files if "_create_array_" in f.name]
    cases = CASES + _random_cases()
    for k, path in enumerate([memory, *arrays[:1]]):
        snippet, pre, post, flag = _patched_check(path.read_text())
        work = tmp_path / f"check{k}"
        work.mkdir()
        _assert_agrees(_run_check(work, snippet, pre, post, flag, cases), cases)
