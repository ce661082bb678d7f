"""The installed packages are exactly the lock (requirements.txt): names and versions."""

import re
from importlib import metadata
from pathlib import Path

LOCK = Path(__file__).resolve().parents[2] / "requirements.txt"


def _name(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked():
    pins = {}
    for line in LOCK.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


def _installed():
    return {_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def test_it_pins_every_package_with_its_hashes():
    text = LOCK.read_text()
    entries = re.findall(r"^(\S+==\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", text, re.M)
    requirements = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert len(entries) == len(requirements) > 50
    # Nothing of the machine it was made on: no index, no local path.
    assert "--index-url" not in text and "--find-links" not in text and "file://" not in text


def test_it_runs_on_exactly_the_locked_packages():
    locked, installed = _locked(), _installed()
    missing = {n: v for n, v in locked.items() if n not in installed}
    extra = {n: v for n, v in installed.items() if n not in locked}
    different = {n: (locked[n], installed[n]) for n in locked.keys() & installed.keys() if locked[n] != installed[n]}
    assert (missing, extra, different) == ({}, {}, {}), "run `make deps` (or `make lock`)"

