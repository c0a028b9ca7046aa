"""``benchmarks/gpu_prebuild.py``: the archive of CUDA projects compiled ahead for a GPU session.

A compiled project is run as it is only under its content key, which hashes the lowering's
source; ``--rekey`` moves an archived project to the current code's key only where the
current code generates, byte for byte, what was compiled. These tests generate real
brian2cuda projects (no nvcc: a compiled ``main`` stands in as a file that rekey compares
and never runs).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cuda import exp1_network, needs_brian2cuda, tiny_network

from spikemem.hardware import cuda

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
DURATION_MS, CC = 10.0, 8.0


@pytest.fixture
def prebuild(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    # a folder named like the projects' own "results" above the cache must not hide any file
    monkeypatch.setenv("SPIKEMEM_CACHE", str(tmp_path / "results" / "cache"))
    import gpu_prebuild

    return gpu_prebuild


def _compiled_then_archived(prebuild, tmp_path: Path) -> tuple[Path, Path]:
    """The tiny project generated as a build would, ``main`` and an older key added, archived."""
    built = prebuild.build_apart(tiny_network(), DURATION_MS, "generate", CC, 1)
    (built / "main").write_bytes(b"\x7fELF stand-in for nvcc's binary")
    prebuild._set_compiled_key(built, "key-of-older-code")
    out = tmp_path / "out"
    prebuild.copy_runtime(built, out)
    prebuild.pack(out)
    return built, out


def test_pack_keeps_archived_projects_that_the_new_ones_lack(prebuild, tmp_path):
    out = tmp_path / "out"
    for project, text in [("a", "a, first build"), ("b", "b"), ("a", "a, second build")]:
        (out / "cuda_standalone" / project).mkdir(parents=True, exist_ok=True)
        (out / "cuda_standalone" / project / "main").write_text(text)
        prebuild.pack(out)
        assert not (out / "cuda_standalone").exists()
    archived = prebuild._extract(out / prebuild.ARCHIVE, tmp_path / "unpacked")
    assert sorted(p.name for p in archived.iterdir()) == ["a", "b"]
    assert (archived / "a" / "main").read_text() == "a, second build"
    assert (archived / "b" / "main").read_text() == "b"


@needs_brian2cuda
def test_build_apart_writes_the_same_bytes_whatever_the_callers_hash_seed(prebuild, tmp_path, monkeypatch):
    # the CA3's spike monitors list their variables in string-hash order: under
    # PYTHONHASHSEED 1 and 2 brian2cuda writes them in different orders
    network, duration = exp1_network(), 100.0
    projects = []
    for seed in ("1", "2"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        projects.append(prebuild.build_apart(network, duration, "generate", CC, 1, tmp_path / f"hash{seed}"))
    assert len(list(projects[0].glob("code_objects/spikes_*.cu"))) >= 4
    assert prebuild._differences(*projects) == []


@needs_brian2cuda
def test_rekey_gives_the_current_key_where_the_code_generates_what_was_compiled(prebuild, tmp_path, capsys):
    built, out = _compiled_then_archived(prebuild, tmp_path)
    found = {"tiny": (tiny_network(), DURATION_MS)}

    assert prebuild.rekey(out, found, CC) == 0
    key = cuda.content_key(tiny_network(), DURATION_MS, 0, CC)
    archived = prebuild._extract(out / prebuild.ARCHIVE, tmp_path / "unpacked") / built.name
    assert json.loads((archived / "spikemem.json").read_text())["compiled_key"] == key
    assert (archived / "main").read_bytes() == (built / "main").read_bytes()
    assert json.loads((built / "spikemem.json").read_text())["compiled_key"] == key
    assert "key-of-older-code"[:16] in capsys.readouterr().out

    # the archive is then current: nothing to do, nothing rewritten
    before = (out / prebuild.ARCHIVE).read_bytes()
    assert prebuild.rekey(out, found, CC) == 0
    assert "already has this code's key" in capsys.readouterr().out
    assert (out / prebuild.ARCHIVE).read_bytes() == before


@needs_brian2cuda
@pytest.mark.parametrize("change", ["a generated source", "the binary"])
def test_rekey_refuses_a_project_that_is_not_what_the_code_generates(prebuild, tmp_path, capsys, change):
    built, out = _compiled_then_archived(prebuild, tmp_path)
    if change == "a generated source":
        with open(built / "main.cu", "a") as source:
            source.write("// edited after compiling\n")
        why = "main.cu"
    else:
        (built / "main").write_bytes(b"\x7fELF another build")
        why = "is not what was archived"
    before = (out / prebuild.ARCHIVE).read_bytes()

    assert prebuild.rekey(out, {"tiny": (tiny_network(), DURATION_MS)}, CC) == 1
    err = capsys.readouterr().err
    assert "refused: tiny" in err and why in err and "--only tiny" in err
    assert (out / prebuild.ARCHIVE).read_bytes() == before
    assert json.loads((built / "spikemem.json").read_text())["compiled_key"] == "key-of-older-code"
