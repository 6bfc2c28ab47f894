"""The dependency files agree, and CI runs the README's test command."""

import re

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tools.course import ROOT

CONDA_NAMES = {"torch": "pytorch"}


def requirements():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def pins():
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    found = {}
    for line in lines:
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            found[name.lower().replace("_", "-")] = version
    return found


def test_environment_yml_has_the_same_ranges_as_requirements():
    text = (ROOT / "environment.yml").read_text()
    conda = dict(re.findall(r"^  - ([a-z][\w-]*)(\S*)$", text, flags=re.MULTILINE))
    for req in requirements():
        name = CONDA_NAMES.get(req.name, req.name)
        assert name in conda, f"environment.yml lacks {name}"
        assert SpecifierSet(conda[name]) == req.specifier, (
            f"{name}: environment.yml says {conda[name]!r}, requirements.txt {req.specifier}"
        )


def test_constraints_pin_every_requirement_inside_its_range():
    pinned = pins()
    for req in requirements():
        assert req.name in pinned, f"constraints.txt does not pin {req.name}"
        assert req.specifier.contains(pinned[req.name]), f"{req.name}=={pinned[req.name]} is out of range"
    assert pinned["torch"] == "2.13.0", "CI installs the CPU build of torch 2.13.0"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and re.search(r"^(time )?make test$", ci, flags=re.MULTILINE)


def test_torch_floor_loads_safely_by_default():
    """Lesson 06 and its checks' tests rely on torch.load(path) meaning weights_only=True,
    which is torch's default from 2.6 on: the supported range must not reach below it."""
    torch_req = next(req for req in requirements() if req.name == "torch")
    assert not torch_req.specifier.contains("2.5.1"), f"torch{torch_req.specifier} allows 2.5"
    assert torch_req.specifier.contains("2.6.0")
