"""What ``pip install .`` ships: every package of the source tree, rooms included.

pyproject.toml lists the packages by hand (setuptools maps ``models/``, ``hardware/`` and
``experiments/`` into the ``spikemem`` namespace); a room left off the list would import in
a checkout and be missing from an installed spikemem.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {ROOT / path: name for name, path in config["package-dir"].items()}
    found = set()
    for top, name in folders.items():
        for init in top.rglob("__init__.py"):
            rel = init.parent.relative_to(top).parts
            found.add(".".join((name, *rel)))
    assert found == listed
