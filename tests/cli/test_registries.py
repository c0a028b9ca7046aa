"""The registries the command line goes through: models, targets (exporters included), experiments.

The command line imports no model, target or experiment itself: a model added as one file
in ``spikemem.models`` is exported without touching the CLI, and the description finds the
device models without asking the target registry.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import spikemem.models
from spikemem.cli import main
from spikemem.errors import ValidationError
from spikemem.experiment import all_experiments, get_experiment
from spikemem.io import load_network
from spikemem.model import all_models, get_model
from spikemem.targets import all_targets, exporters, resolve

ROOT = Path(__file__).resolve().parents[2]


def test_models_lists_ca3_and_cuba_with_their_options(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert set(lines) >= {"ca3", "cuba"}
    assert "--schedule" in lines["ca3"] and "--mode" in lines["ca3"] and "--neurons" not in lines["ca3"]
    assert "--neurons" in lines["cuba"] and "--schedule" not in lines["cuba"]


def test_export_help_shows_that_models_options_only(capsys):
    with pytest.raises(SystemExit) as done:
        main(["export", "ca3", "-h"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--schedule" in out and "--n-cues" in out and "--mode" in out and "--target" in out
    assert "--neurons" not in out


def test_an_unknown_model_gets_one_line_naming_the_known_ones(capsys):
    assert main(["export", "nosuch", "--target", "hdf5", "--out", "x.h5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'nosuch'" in err and "'ca3'" in err and "'cuba'" in err
    with pytest.raises(ValidationError, match="one of ca3, cuba"):
        get_model("nosuch")


THROWAWAY = '''
"""A model that exists only for a test: N relay cells driven by one spike each."""

from spikemem import IF_curr_exp, Network, OneToOne, Population, Probe, Projection, SpikeSource, Static
from spikemem.model import Model


def add_arguments(p):
    p.add_argument("--size", type=int, default=2)


def network(args):
    inputs = SpikeSource("inputs", [[1.0 + k] for k in range(args.size)])
    cells = Population("cells", args.size, IF_curr_exp())
    relay = Projection("relay", inputs, cells, OneToOne(), Static(weight=5.0, delay=1.0))
    return Network([inputs, cells], [relay], [Probe("cells")], name=f"throwaway_{args.size}")


MODELS = [Model("throwaway", "relay cells, for a test", network, lambda args: 10.0 + args.size, add_arguments)]
'''


@pytest.fixture
def throwaway_model(tmp_path, monkeypatch):
    """A model in a module of a temporary folder that joins ``spikemem.models``: adding a
    model is adding one file."""
    folder = tmp_path / "more_models"
    folder.mkdir()
    (folder / "throwaway.py").write_text(textwrap.dedent(THROWAWAY))
    monkeypatch.setattr(spikemem.models, "__path__", [*spikemem.models.__path__, str(folder)])
    monkeypatch.delitem(sys.modules, "spikemem.models.throwaway", raising=False)
    yield
    sys.modules.pop("spikemem.models.throwaway", None)


def test_a_model_in_one_new_file_is_listed_and_exported(throwaway_model, tmp_path, capsys):
    assert "throwaway" in all_models()
    assert main(["models"]) == 0
    assert "throwaway" in capsys.readouterr().out
    out = tmp_path / "net.h5"
    assert main(["export", "throwaway", "--size", "3", "--target", "hdf5", "--out", str(out)]) == 0
    net = load_network(out)
    assert net.name == "throwaway_3" and net.population("cells").size == 3
    script = tmp_path / "net.py"  # an exporter of fixed-length runs gets the model's duration
    assert main(["export", "throwaway", "--target", "pynn-script", "--out", str(script)]) == 0
    assert "DURATION = 12.0" in script.read_text()


def test_a_saved_network_exports_like_a_model(tmp_path):
    saved, script = tmp_path / "cuba.h5", tmp_path / "cuba.py"
    assert main(["export", "cuba", "--neurons", "40", "--target", "hdf5", "--out", str(saved)]) == 0
    assert main(["export", str(saved), "--target", "pynn-script", "--out", str(script)]) == 0
    assert "DURATION = 1000.0" in script.read_text()
    assert main(["export", "network", str(saved), "--target", "hdf5", "--out", str(tmp_path / "again.h5")]) == 0
    assert load_network(tmp_path / "again.h5") == load_network(saved)


def test_exporters_are_targets_of_the_registry():
    names = set(exporters())
    assert {"hdf5", "pynn-script", "nir", "spinnaker", "cuda"} <= names
    assert "brian2" not in names and "pynn" not in names
    for name in ("hdf5", "pynn-script"):
        info, module, _ = resolve(name)
        assert not info.supports("run") and callable(module.export)


@pytest.mark.parametrize("target", ["hdf5", "pynn-script"])
def test_an_export_only_target_refuses_to_simulate(target):
    from spikemem import IF_curr_exp, Network, Population, UnsupportedFeature, simulate

    with pytest.raises(UnsupportedFeature, match="only exports"):
        simulate(Network([Population("a", 1, IF_curr_exp())]), 1.0, target=target)


def test_every_room_names_its_target_modules():
    """Each subpackage of ``spikemem.hardware`` lists its target modules in ``TARGETS``; each
    of those defines a ``TARGET``; the device physics room holds no target."""
    import spikemem.hardware.devices as devices

    found = {info.name: module.__name__ for info, module in all_targets().values()}
    assert found == {
        "brian2": "spikemem.hardware.brian2.target",
        "cuda": "spikemem.hardware.cuda.target",
        "hdf5": "spikemem.hardware.hdf5.target",
        "nir": "spikemem.hardware.nir.target",
        "norse": "spikemem.hardware.norse.target",
        "pynn": "spikemem.hardware.pynn.target",
        "pynn-script": "spikemem.hardware.pynn.script",
        "spinnaker": "spikemem.hardware.spinnaker.target",
    }
    assert not hasattr(devices, "TARGETS")


@pytest.mark.parametrize("target", ["brian2", "pynn:brian2", "spinnaker", "cuda"])
def test_one_option_check_for_every_target(target):
    """An option a target does not take is refused by the shared check, naming the field
    and the options the target takes."""
    from spikemem import IF_curr_exp, Network, Population, simulate

    info = all_targets()[target.partition(":")[0]][0]
    if not info.installed:
        pytest.skip(f"{info.name} is not installed ({info.install_hint})")
    with pytest.raises(ValidationError) as err:
        simulate(Network([Population("a", 1, IF_curr_exp())]), 1.0, target=target, nosuch=1)
    assert err.value.field == "option nosuch"
    assert err.value.allowed == f"one of {', '.join(info.options)} for target {info.name}"


def test_old_experiment_names_are_aliases():
    runs = all_experiments("run")
    assert runs["ca3-exp1"].aliases == ("ca3-functional",) and runs["ca3-exp2"].aliases == ("ca3-pyramidal",)
    assert get_experiment("ca3-functional") is runs["ca3-exp1"]


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


#: What the core may name of the other layers: the packages its registries search, and
#: the device physics, which the description needs to read a device node.
REGISTRY_PACKAGES = ("spikemem.models", "spikemem.experiments", "spikemem.hardware", "spikemem.hardware.devices")


def test_the_core_package_imports_no_model_experiment_or_target():
    """Arrows point one way: the core (``spikemem/``) reaches models, experiments and
    targets through its registries only, which import the packages and find the modules."""
    for path in sorted((ROOT / "spikemem").glob("*.py")):
        for name in _imports(path):
            layer = name.startswith(("spikemem.models", "spikemem.experiments", "spikemem.hardware"))
            assert not name.startswith((".models", ".experiments", ".hardware")), f"{path.name} imports {name}"
            assert not layer or name in REGISTRY_PACKAGES, f"{path.name} imports {name}"


def test_a_device_node_is_read_without_the_target_registry(tmp_path):
    """A network with a resistive-memory device under a projection is loaded in a fresh
    interpreter: the device's node type is found, and no target module is imported."""
    from spikemem.hardware.devices.rram import RRAM, apply_device
    from spikemem.io import save_network
    from spikemem.models.ca3 import ca3_network, paper_schedule

    path = tmp_path / "net.h5"
    save_network(apply_device(ca3_network(paper_schedule("exp1"), "functional"), RRAM("hfox")), path)
    code = (
        "import sys; from spikemem.io import load_network; net = load_network(sys.argv[1]); "
        "print(type(net.projection('W_fwd').device).__name__); "
        "print(sorted(m for m in sys.modules if m.startswith('spikemem.hardware.')))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    kind, modules = out.splitlines()
    assert kind == "RRAM"
    assert modules == "['spikemem.hardware.devices', 'spikemem.hardware.devices.rram']"


def test_every_exporter_lists_the_options_its_export_takes():
    """``spikemem export --option`` is checked against ``TargetInfo.export_options``: a key
    the export function takes but the list lacks is refused although it works (cuda's
    ``compile=true`` once was), one the list has but the function lacks is a TypeError."""
    import inspect

    for name, (info, module) in all_targets().items():
        if not info.supports("export"):
            continue
        params = inspect.signature(module.export).parameters
        named = {p for p, v in params.items() if v.kind is v.KEYWORD_ONLY or v.default is not v.empty}
        if any(v.kind is v.VAR_KEYWORD for v in params.values()):
            assert named <= set(info.export_options), name
            continue
        assert named == set(info.export_options), name
