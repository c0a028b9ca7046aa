"""``spikemem run hlop``: bad options refused before anything trains; a small run end to end."""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest

from spikemem.cli import EXIT_REFUSED, main

pytest.importorskip("torch", reason="HLOP trains through the norse target: pip install 'spikemem[learn]'")
pytest.importorskip("sklearn", reason="Permuted-Digits-784 needs scikit-learn's digits: pip install 'spikemem[learn]'")


@pytest.fixture
def nothing_trains(monkeypatch):
    from spikemem.experiments import _hlop_learning

    def must_not_train(*args, **kwargs):
        raise AssertionError("trained although the options should have been refused")

    monkeypatch.setattr(_hlop_learning, "continual", must_not_train)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (["--tasks", "1"], "--tasks"),
        (["--seeds", "0"], "--seeds"),
        (["--methods", "hlop,ewc"], "--methods"),
        (["--hidden", "1"], "--hidden"),
        (["--spiking-steps", "forty"], "--spiking-steps"),
        (["--deploy", "loihi"], "--deploy"),
        (["--methods", "finetune", "--deploy", "brian2"], "--deploy"),
        (["--plot", "accuracy.txt"], "--plot"),
        (["--mnist", "no-such-folder"], "--mnist"),
        (["--batch", "0"], "--batch"),
        (["--deploy-samples", "some"], "--deploy-samples"),
        (["--trained", "missing.h5", "--deploy", "nir"], "--trained"),
        (["--rram-samples", "0"], "--rram-samples"),
        (["--rram", "flash"], "RRAM.preset"),
        (["--rram", "hfox:levels=1"], "RRAM.levels"),
        (["--methods", "gpm", "--rram", "hfox"], "--rram"),
    ],
)
def test_bad_options_are_refused_before_training(options, field, nothing_trains, capsys, tmp_path):
    os.chdir(tmp_path)
    code = main(["run", "hlop", "--no-progress", *options])
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED, err
    assert field in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []


def test_a_small_run_writes_every_matrix_and_hyperparameter(tmp_path, capsys):
    out, plot = tmp_path / "hlop.h5", tmp_path / "hlop.png"
    argv = ["run", "hlop", "--tasks", "2", "--seeds", "2", "--epochs", "1", "--hidden", "32", "--no-progress"]
    argv += ["--methods", "hlop,finetune,multitask", "--deploy", "brian2:numpy,nir,spinnaker", "--deploy-samples", "3"]
    argv += ["--rram", "hfox"]
    assert main([*argv, "--out", str(out), "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    assert "hlop" in text and "multitask" in text and "deployed on brian2:numpy" in text
    assert "deployed via a NIR file in Norse: ACC" in text
    assert "100.00 % of predictions equal to PyTorch's" in text  # same spikes: same classes
    assert "RRAM hfox" in text and "with read noise" in text
    assert "SpiNNaker (16-bit weights, whole test sets)" in text and "IF_curr_delta" in text  # the chip's delta input
    assert plot.stat().st_size > 0
    with h5py.File(out) as fh:
        assert set(fh) == {"hlop", "finetune", "multitask"}
        a = fh["hlop/seed1/accuracy"][()]
        assert a.shape == (2, 2) and np.isnan(a[0, 1]) and np.all((a[~np.isnan(a)] >= 0) & (a[~np.isnan(a)] <= 100))
        assert fh["multitask/seed0/accuracy"].shape == (1, 2)
        config = json.loads(fh.attrs["config"])
        assert config["hebb_lr"] == [0.001, 0.01, 0.01] and config["k0"] == [24, 40, 24]
        assert json.loads(fh["hlop/seed0"].attrs["kept"])["w2"] == [31, 0]  # k0 = 40 in a 32-wide layer: capped at 31
        assert fh["hlop/seed0/w1"].shape == (784, 32)
        on_brian2 = json.loads(fh.attrs["deployed"])["brian2:numpy"]
        assert len(on_brian2["per_task"]) == 2 and on_brian2["max_gap"] == 0.0  # the same classes as PyTorch
        rram = json.loads(fh.attrs["deployed"])["rram"]["hfox"]
        assert len(rram["norse"]["read"]) == 2 and len(rram["norse"]["programmed"]) == 2
        assert 0 <= rram["brian2:numpy"]["agree"] <= 100
        chip = json.loads(fh.attrs["deployed"])["spinnaker"]
        assert chip["cores"] == 4 and len(chip["fixed_accuracy"]) == 2
        assert all(0 < e < 0.01 for e in chip["max_weight_error"].values())  # 16 bits: far below the 1 mV threshold
        assert abs(np.mean(chip["fixed_accuracy"]) - np.mean(chip["float_accuracy"])) < 2.0
        assert fh["hlop/seed0/H_w2"].shape == (31, 32)  # the lateral neurons kept, for export
    # the trained network and a lateral circuit go on to hardware through spikemem export
    nir_file, script = tmp_path / "mlp.nir", tmp_path / "lateral.py"
    argv = ["export", "hlop", "--results", str(out), "--task", "1", "--target", "nir"]
    assert main([*argv, "--out", str(nir_file)]) == 0
    argv = ["export", "hlop-lateral", "--results", str(out), "--layer", "w2", "--target", "pynn-script"]
    assert main([*argv, "--out", str(script)]) == 0
    assert nir_file.stat().st_size > 0 and "lateral_pos" in script.read_text()
    code = main(["export", "hlop", "--results", str(out), "--method", "gpm", "--target", "nir", "--out", "x.nir"])
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED and "--results" in err and "gpm run" in err
    # deployed again from the file, without training: the NIR export on every test sample
    again = tmp_path / "again.h5"
    argv = ["run", "hlop", "--trained", str(out), "--deploy", "nir", "--deploy-samples", "all", "--no-progress"]
    assert main([*argv, "--out", str(again)]) == 0
    text = capsys.readouterr().out
    assert "deployed via a NIR file in Norse" in text and "100.00 % of predictions equal to PyTorch's" in text
    with h5py.File(again) as fh:
        assert json.loads(fh.attrs["options"])["hidden"] == 32 and "nir" in json.loads(fh.attrs["deployed"])


def test_permuted_mnist_from_a_small_folder_in_the_real_format(tmp_path, capsys):
    from _mnist import write_small_mnist

    write_small_mnist(tmp_path / "data" / "MNIST" / "raw", n_train=48, n_test=16, gz=True)
    out = tmp_path / "mnist.h5"
    argv = ["run", "hlop", "--mnist", str(tmp_path / "data"), "--tasks", "2", "--seeds", "1", "--hidden", "16"]
    argv += ["--steps", "4", "--methods", "hlop", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    assert "Permuted MNIST, 2 tasks" in capsys.readouterr().out
    with h5py.File(out) as fh:
        opts, config = json.loads(fh.attrs["options"]), json.loads(fh.attrs["config"])
        assert opts["dataset"] == "permuted-mnist" and opts["epochs"] == 1 and opts["batch"] == 64  # the authors' setup
        assert config["k_per_task"][0] == [80, 200, 100]  # spec §8.3
        assert json.loads(fh["hlop/seed0"].attrs["kept"]) == {"w1": [80, 70], "w2": [15, 0], "w3": [15, 0]}
        assert fh["hlop/seed0/accuracy"].shape == (2, 2)


@pytest.mark.parametrize(
    ("model", "options", "field"),
    [
        ("hlop", ["--results", "missing.h5"], "--results"),
        ("hlop", ["--hidden", "1"], "--hidden"),
        ("hlop", ["--sample", "360"], "--sample"),
        ("hlop-lateral", ["--density", "2"], "--density"),
        ("hlop-lateral", ["--neurons", "0"], "--neurons"),
        ("hlop-lateral", ["--results", "missing.h5"], "--results"),
    ],
)
def test_bad_export_options_name_the_field(model, options, field, capsys, tmp_path):
    os.chdir(tmp_path)
    code = main(["export", model, *options, "--target", "nir", "--out", "out.nir"])
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED and field in err and "Traceback" not in err
    assert os.listdir(tmp_path) == []
