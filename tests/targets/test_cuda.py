"""The ``cuda`` target (brian2cuda's ``cuda_standalone``).

* Checks and refusals: everywhere (no brian2cuda needed).
* Code generation of the CA3 memory and of the Vogels–Abbott network: wherever brian2cuda
  is installed (no GPU, no nvcc).
* Compilation with nvcc: marker ``nvcc``.
* Runs on a GPU: marker ``gpu``; the CA3 answers must equal the CPU target's and the spike
  trains those of Brian2's C++ standalone (same double-precision arithmetic, no random
  numbers drawn during the run; see the README for where streams cannot match).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from _spikes import assert_same_spikes

from spikemem import (
    STDP,
    AllToAll,
    FromList,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSource,
    Static,
    load_network,
    simulate,
)
from spikemem.errors import TargetNotInstalled, UnsupportedFeature, ValidationError
from spikemem.hardware import cuda
from spikemem.hardware.brian2 import lowering
from spikemem.hardware.brian2.synapses import resolved
from spikemem.models import ca3
from spikemem.models.cuba import cuba_network
from spikemem.synapses import Gate, GatedWrite

HAS_BRIAN2CUDA = importlib.util.find_spec("brian2cuda") is not None
needs_brian2cuda = pytest.mark.skipif(
    not HAS_BRIAN2CUDA, reason="brian2cuda is not installed (pip install 'spikemem[cuda]')"
)
needs_gpu = pytest.mark.skipif(not (HAS_BRIAN2CUDA and cuda.gpus()), reason="needs brian2cuda and an NVIDIA GPU")


def tiny_network() -> Network:
    """Two inputs relayed one-to-one to two cells: the smallest project brian2cuda writes."""
    cell = IF_curr_exp(tau_refrac=1.0)
    return Network(
        [SpikeSource("inp", [[1.0, 5.0], [3.0]]), Population("out", 2, cell)],
        [Projection("relay", "inp", "out", OneToOne(), Static(weight=5.0, delay=1.0))],
        [Probe("out")],
        dt=0.1,
        name="tiny",
    )


def exp1_network() -> Network:
    return ca3.ca3_network(ca3.paper_schedule("exp1"), "fidelity", record="all")


# --- checks (everywhere) -----------------------------------------------------------------


def test_check_refuses_bad_options():
    net = tiny_network()
    with pytest.raises(ValidationError, match="option nodes"):
        cuda.check_stage(net, "generate", nodes=4)
    with pytest.raises(ValidationError, match="compute_capability"):
        cuda.check_stage(net, "generate", compute_capability=3.0)
    with pytest.raises(ValidationError, match="stage"):
        cuda.check_stage(net, "link")


@pytest.mark.skipif(bool(cuda.gpus()), reason="this machine has a GPU")
def test_running_without_gpu_is_refused_before_building(tmp_path):
    net = tiny_network()
    with pytest.raises(UnsupportedFeature, match="no NVIDIA GPU"):
        cuda.check(net)
    expected = UnsupportedFeature if HAS_BRIAN2CUDA else TargetNotInstalled
    with pytest.raises(expected):
        simulate(net, 10.0, target="cuda", build_dir=str(tmp_path / "project"))
    assert not (tmp_path / "project").exists()  # refused before anything was written


def test_run_project_refuses_a_folder_without_a_compiled_project(tmp_path):
    (tmp_path / "spikemem.json").write_text("{}")
    with pytest.raises(ValidationError, match="compiled project"):
        cuda.run_project(tmp_path)  # no main
    assert not (tmp_path / "results").exists()


def test_run_project_keeps_the_programs_output_in_main_log(tmp_path, monkeypatch):
    """A program that fails: its output (stdout and stderr, in order) stays in the project's
    ``main.log`` and the error quotes its end. ``nvidia-smi`` is answered for this test
    only, to reach the program; the program is a shell script standing in for ``main``."""
    from spikemem.hardware.cuda import project as _cuda_project

    (tmp_path / "spikemem.json").write_text("{}")
    main = tmp_path / "main"
    main.write_text("#!/bin/sh\necho 'INFO connectivity matrix has size 12'\necho 'out of memory' >&2\nexit 3\n")
    main.chmod(0o755)
    monkeypatch.setattr(_cuda_project, "gpus", lambda: [("a GPU", 9.0)])
    with pytest.raises(RuntimeError, match=r"exit status 3 \(see .*main\.log\).*out of memory"):
        cuda.run_project(tmp_path)
    assert (tmp_path / "main.log").read_text().splitlines() == ["INFO connectivity matrix has size 12", "out of memory"]


def test_content_key_names_exactly_one_run():
    """A compiled project is reused only for the same network, duration, seed and GPU generation."""
    net = tiny_network()
    key = cuda.content_key(net, 10.0, 0, 9.0)
    assert key == cuda.content_key(tiny_network(), 10.0, 0, 9.0)
    moved = net.replace(populations=(SpikeSource("inp", [[1.0, 6.0], [3.0]]), net.populations[1]))
    others = [
        cuda.content_key(moved, 10.0, 0, 9.0),  # one input spike 1 ms later
        cuda.content_key(net, 11.0, 0, 9.0),
        cuda.content_key(net, 10.0, 1, 9.0),
        cuda.content_key(net, 10.0, 0, 8.0),
    ]
    assert len({key, *others}) == 5


def test_deferred_stdp_refused_like_brian2():
    """Deferred STDP cannot honour a second pre spike within the delivery delay (same rule as ``brian2``)."""
    syn = STDP(weight=0.0, delay=3.0, w_max=1.0, timing="deferred")
    cell = IF_curr_exp(integration="spinnaker")
    net = Network(
        [SpikeSource("inp", [[1.0, 2.0]]), Population("out", 1, cell)],
        [Projection("plastic", "inp", "out", AllToAll(), syn)],
        dt=1.0,
    )
    with pytest.raises(UnsupportedFeature) as err:
        cuda.check_stage(net, "generate")
    assert err.value.target == "cuda"


# --- code generation (brian2cuda, no GPU, no nvcc) --------------------------------------


def _lowered(net: Network, duration_ms: float) -> lowering.Built:
    """The Brian2 objects the lowering makes of ``net`` (on Brian2's runtime device)."""
    import brian2 as b2

    b2.set_device("runtime")
    b2.BrianLogger.suppress_name("unused_brian_object")  # built to be looked at, never run
    b2.defaultclock.dt = net.dt * b2.ms
    return lowering.build(net, duration_ms, 0)


def _code_objects(folder: Path) -> set[str]:
    """The project's code objects, without the ``_1``, ``_2`` Brian2 appends to a name that
    an earlier project in the same process used."""
    return {re.sub(r"_codeobject_\d+$", "_codeobject", p.stem) for p in (folder / "code_objects").glob("*.cu")}


def _assert_complete(folder: Path, net: Network, duration_ms: float) -> None:
    """The project has its sources, makefile and README and, for every Brian2 object of the
    lowering (populations of equal cells share a group, unrecorded inputs one generator and
    fused synapses), the code objects that run it; every projection and probe has an object."""
    import brian2 as b2

    for name in ("main.cu", "network.cu", "objects.cu", "rand.cu", "run.cu", "makefile", "README.md"):
        assert (folder / name).is_file(), name
    objs = _code_objects(folder)
    built = _lowered(net, duration_ms)
    assert set(built.synapses) == {p.name for p in net.projections}
    assert set(built.spike_monitors) == {p.target for p in net.probes if p.variable == "spikes"}
    for obj in built.objects:
        if isinstance(obj, b2.Synapses):
            assert any(o.startswith(f"{obj.name}_synapses_create_") for o in objs), obj.name
        elif not isinstance(obj, b2.NeuronGroup):  # spike generator, monitors
            assert f"{obj.name}_codeobject" in objs, obj.name
        # thresholder, resetter, state update or spikemem's explicit step, synaptic pathways
        for part in obj.contained_objects:
            if part in built.objects:  # Brian2 lists some Synapses under their source group
                continue
            if not (isinstance(part, b2.groups.neurongroup.StateUpdater) and not obj.equations.diff_eq_names):
                assert f"{part.name}_codeobject" in objs, part.name
    for proj in net.projections:
        if isinstance(proj.synapse, STDP):
            assert f"{built.synapses[proj.name].name}_post_codeobject" in objs, proj.name
    # every generated source is listed in the makefile
    makefile = (folder / "makefile").read_text()
    assert all(f"code_objects/{p.name}" in makefile for p in (folder / "code_objects").glob("*.cu"))
    assert load_network(folder / "network.h5") == net


@needs_brian2cuda
@pytest.mark.parametrize("mode", ["fidelity", "functional"])
def test_generate_ca3_project(tmp_path, mode):
    """Both CA3 circuits: the published one (STDP) and spikemem's (gated writes)."""
    schedule = ca3.paper_schedule("exp1")
    net = ca3.ca3_network(schedule, mode, record="all")
    duration = ca3.duration_ms(schedule, mode)
    folder = cuda.export(net, tmp_path / "ca3", duration_ms=duration, compute_capability=8.6)
    _assert_complete(folder, net, duration)
    makefile = (folder / "makefile").read_text()
    assert "-arch=sm_86" in makefile and "-std=c++17" in makefile and "-lcurand" in makefile
    assert "-march=native" not in makefile  # host code runs on the GPU machine's CPU, whatever it is
    assert json.loads((folder / "spikemem.json").read_text())["compiled_key"] is None  # never taken for compiled
    # the all-to-all memories are connected by rule on the device: no index arrays were
    # written (a 10 000 x 10 000 memory would need 1e8 of each)
    memories = {"memory_cue_to_content", "memory_content_to_cue", "W_fwd", "W_bwd"} & {p.name for p in net.projections}
    assert len(memories) == 2
    static = {p.name for p in (folder / "static_arrays").iterdir()}
    assert static and not {f"_static_array__array_{name}_sources" for name in memories} & static
    readme = (folder / "README.md").read_text()
    assert "make" in readme and "./main" in readme and "read_results" in readme


@needs_brian2cuda
def test_generate_cuba_project(tmp_path):
    net = cuba_network(n_neurons=400, p_connect=0.05)
    folder = cuda.export(net, tmp_path / "cuba", duration_ms=50.0)
    _assert_complete(folder, net, 50.0)
    # random connectivity is resolved by spikemem and shipped as index arrays: one pair per
    # Synapses object (the four projections are fused into one per sign), every synapse in them
    arrays = sorted((folder / "static_arrays").glob("_static_array__array_*_sources"))
    assert len(arrays) == 2
    shipped = sum(len(np.fromfile(path, dtype=np.int32)) for path in arrays)
    assert shipped == sum(len(net.connections(proj).i) for proj in net.projections) > 0


@needs_brian2cuda
def test_generate_project_with_ageing_devices(tmp_path):
    """Learned weights on PCM devices that age once at ``t_age_ms`` (one-shot run_regularly,
    random numbers drawn on the device): the ageing step is in the project."""
    from spikemem.hardware.devices.rram import RRAM

    device = RRAM("pcm", t_inf=86400.0, t_age_ms=10.0)
    cell = IF_curr_exp(tau_refrac=1.0)
    net = Network(
        [SpikeSource("pre", [[1.0, 20.0]] * 4), SpikeSource("drive", [[2.0]] * 4), Population("post", 4, cell)],
        [
            Projection("learn", "pre", "post", OneToOne(), STDP(weight=0.5, delay=1.0, w_max=1.0), device=device),
            Projection("kick", "drive", "post", OneToOne(), Static(weight=5.0, delay=1.0)),
        ],
        [Probe("post"), Probe("learn", "weight")],
        dt=0.1,
    )
    folder = cuda.export(net, tmp_path / "aged", duration_ms=30.0)
    _assert_complete(folder, net, 30.0)
    assert "learn_rram_age_codeobject" in _code_objects(folder)


def delta_network() -> Network:
    """IF_curr_delta cells with every way an input reaches them in the lowering: fused static
    synapses of both signs, a spike-counting pool (600 x 600 all-to-all), online STDP, a
    gated write opened by gates, and probes of v and of weights."""
    cell = IF_curr_delta(tau_refrac=0.5, i_offset=0.1)
    rows = [(k, k, 8.0 + k, 0.1 * (k + 1)) for k in range(4)]
    pairs = [(i, (i + j) % 4) for i in range(4) for j in range(4)]  # weighed: explicit synapses in standalone
    return Network(
        [
            SpikeSource("inp", [[1.0, 5.0], [3.0], [2.0], [4.0]]),
            SpikeSource("opener", [[0.0], [0.0], [], [0.0]]),
            Population("cells", 4, cell),
            Population("big", 600, cell),
            Population("tags", 4, cell),
        ],
        [
            Projection("drive", "inp", "cells", FromList(rows), Static(0.0, 0.1)),
            Projection("calm", "inp", "cells", OneToOne(), Static(2.0, 0.5), "inhibitory"),
            Projection("learn", "inp", "cells", FromList(pairs[:4]), STDP(weight=1.0, delay=1.0, w_max=4.0)),
            Projection("fan", "big", "big", AllToAll(allow_self_connections=False), Static(0.01, 2.0), "inhibitory"),
            Projection("gate_cells", "opener", "cells", OneToOne(), Gate(delay=0.5, window_ms=3.0), "modulatory"),
            Projection("gate_tags", "opener", "tags", OneToOne(), Gate(delay=0.5, window_ms=3.0), "modulatory"),
            Projection("W", "cells", "tags", FromList(pairs), GatedWrite(delay=0.5, w_max=20.0)),
        ],
        [Probe("cells"), Probe("tags"), Probe("cells", "v"), Probe("learn", "weight"), Probe("W", "weight")],
        dt=0.1,
        name="delta",
    )


@needs_brian2cuda
def test_generate_delta_project(tmp_path):
    """The lowering of IF_curr_delta cells generates a complete CUDA project: their step with
    the arriving input, deliveries into it (the pool's too), STDP counted a step early and the
    gated write's pre events at the start of a step."""
    net = delta_network()
    folder = cuda.export(net, tmp_path / "delta", duration_ms=20.0)
    _assert_complete(folder, net, 20.0)
    built = _lowered(net, 20.0)
    assert built.synapses["fan"].name == "fan" and "fan_pool_in" in {o.name for o in built.objects}
    assert (built.synapses["W"].pre.when, built.synapses["W"].pre.order) == ("start", 1)
    code = {p.stem: p.read_text() for p in (folder / "code_objects").glob("*.cu")}
    (step,) = [text for name, text in code.items() if name.endswith("_step_codeobject") and "v_rel" in text]
    assert "v_in" in step  # the cells' step applies the arriving input
    assert "v_in" in code["fan_pre_codeobject"] and "n_pre" in code["fan_pre_codeobject"]  # the pool delivers into it
    assert "v_in" in code["W_pre_codeobject"] and "gate_until" in code["W_pre_codeobject"]


def test_export_needs_a_duration_without_spike_inputs(tmp_path):
    with pytest.raises(ValidationError, match="duration_ms"):
        cuda.export(cuba_network(n_neurons=100), tmp_path / "cuba")
    assert not (tmp_path / "cuba").exists()


# --- compilation (nvcc) ------------------------------------------------------------------


@pytest.mark.nvcc
@needs_brian2cuda
@pytest.mark.skipif(cuda.nvcc_path() is None or cuda.curand_dirs() is None, reason="needs nvcc and cuRAND")
def test_compile_with_nvcc(tmp_path):
    # an object left by another version of the project, newer than its source: make alone
    # would link it (brian2cuda's makefile knows no header dependencies)
    generated = cuda.export(tiny_network(), tmp_path / "tiny", duration_ms=10.0, compute_capability=8.0)
    (generated / "objects.o").write_bytes(b"not an object file")
    t0 = time.perf_counter()
    folder = cuda.export(tiny_network(), tmp_path / "tiny", duration_ms=10.0, compile=True, compute_capability=8.0)
    print(f"nvcc compile of the tiny project: {time.perf_counter() - t0:.1f} s")
    binary = folder / "main"
    assert binary.is_file() and binary.read_bytes()[:4] == b"\x7fELF"
    # the manifest names what it was compiled from; host code for any x86-64 CPU
    manifest = json.loads((folder / "spikemem.json").read_text())
    assert manifest["compiled_key"] == cuda.content_key(tiny_network(), 10.0, 0, 8.0)
    assert "-march=native" not in (folder / "makefile").read_text()
    cuobjdump = shutil.which("cuobjdump")
    if cuobjdump:
        listing = subprocess.run([cuobjdump, "--list-elf", str(binary)], capture_output=True, text=True).stdout
        assert "sm_80" in listing


@needs_brian2cuda
@pytest.mark.skipif(cuda.nvcc_path() is None or cuda.curand_dirs() is None, reason="needs nvcc and cuRAND")
def test_compile_stage_leaves_a_project_compiled_for_this_run(tmp_path):
    net = tiny_network()
    folder = cuda.export(net, tmp_path / "tiny", duration_ms=10.0, compute_capability=8.0)
    (folder / "main").write_bytes(b"compiled earlier")
    manifest = json.loads((folder / "spikemem.json").read_text())
    (folder / "spikemem.json").write_text(json.dumps({**manifest, "compiled_key": cuda.content_key(net, 10.0, 0, 8.0)}))

    cuda.export(net, folder, duration_ms=10.0, compile=True, compute_capability=8.0)
    assert (folder / "main").read_bytes() == b"compiled earlier"  # nvcc would have replaced it


# --- runs on a GPU -------------------------------------------------------------------------


def random_8x8() -> ca3.Schedule:
    return ca3.random_schedule(8, 8, 12, spacing_ms=(6.0, 6.0), seed=5)


def batch_schedules() -> list[ca3.Schedule]:
    return [ca3.random_schedule(5, 6, 8, seed=s) for s in range(4)]


def gpu_runs() -> dict[str, tuple[Network, float]]:
    """Every (network, duration in ms) the ``gpu`` tests run on the cuda target, seed 0;
    ``benchmarks/gpu_prebuild.py`` compiles them ahead on a machine without a GPU."""
    from spikemem.batch import stack

    exp1, random = ca3.paper_schedule("exp1"), random_8x8()
    batch = batch_schedules()
    return {
        "fidelity-exp1": (exp1_network(), ca3.duration_ms(exp1, "fidelity")),
        "functional-random": (ca3.ca3_network(random, "functional"), ca3.duration_ms(random, "functional")),
        "batch": (
            stack([ca3.ca3_network(s, "fidelity") for s in batch]),
            max(ca3.duration_ms(s, "fidelity") for s in batch),
        ),
    }


@pytest.mark.gpu
@needs_gpu
def test_gpu_ca3_functional_test_fidelity():
    """The paper's functional test (exp. 1) on the GPU: the CPU target's answers, C++
    standalone's spike trains in every population; the project runs again by itself."""
    schedule = ca3.paper_schedule("exp1")
    gpu = ca3.run_ca3(schedule, "fidelity", target="cuda", record="all")
    cpu = ca3.run_ca3(schedule, "fidelity", target="brian2:numpy", record="all")
    cpp = ca3.run_ca3(schedule, "fidelity", target="brian2:cpp_standalone", record="all")
    assert gpu.answers == cpu.answers
    assert gpu.score()["recalls_correct"] == cpu.score()["recalls_correct"]
    assert_same_spikes(gpu.results, cpp.results)
    # the project left behind is a complete program: its main runs again without brian2cuda
    folder = Path(gpu.results.provenance["build_dir"])
    assert_same_spikes(cuda.read_results(folder), gpu.results)
    shutil.rmtree(folder / "results")
    again = cuda.run_project(folder)
    assert_same_spikes(again, gpu.results)
    assert again.provenance["run_s"] > 0


@pytest.mark.gpu
@needs_gpu
def test_gpu_ca3_functional_mode_random_stream():
    """spikemem's functional circuit on a random stream: same answers as the CPU target."""
    schedule = random_8x8()
    gpu = ca3.run_ca3(schedule, "functional", target="cuda")
    cpu = ca3.run_ca3(schedule, "functional", target="brian2:numpy")
    assert gpu.answers == cpu.answers
    cpp = ca3.run_ca3(schedule, "functional", target="brian2:cpp_standalone")
    assert_same_spikes(gpu.results, cpp.results)


@pytest.mark.gpu
@needs_gpu
def test_gpu_batch_of_memories_matches_single_runs():
    """Independent memories stacked into one GPU run (``run_ca3_batch``, as ``spikemem
    stress ca3 --target cuda`` launches them) answer as each does alone on the CPU."""
    schedules = batch_schedules()
    duration = max(ca3.duration_ms(s, "fidelity") for s in schedules)
    runs = ca3.run_ca3_batch(schedules, "fidelity", target="cuda")
    for schedule, run in zip(schedules, runs, strict=True):
        alone = simulate(ca3.ca3_network(schedule, "fidelity"), duration, target="brian2:numpy")
        assert run.answers == ca3.decode(alone, schedule, "fidelity")
        assert_same_spikes(run.results, alone)


def test_rule_connectors_stay_unmaterialised():
    """The lowering resolves one-to-one and all-to-all projections as rules: a uniform weight
    and delay, no index arrays (a 10 000 x 10 000 memory would be 1e8 of each). Small static
    ones are then fused into shared Synapses with index arrays; the memories stay rules."""
    from spikemem.models.ca3.fidelity import W

    net = exp1_network()
    memory = resolved(net, net.projection("memory_cue_to_content"))
    assert len(memory.i) == 0 and list(memory.weight) == [0.0] and list(memory.delay) == [1.0]
    relay = resolved(net, net.projection("in_cue"))
    assert len(relay.i) == 0 and list(relay.weight) == [W]
