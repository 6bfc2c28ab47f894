"""The code is ruff-clean: the helpers, tools, tests and every notebook."""

import shutil
import subprocess
import sys
from pathlib import Path

from tools.course import ROOT


def test_ruff_is_clean():
    beside_python = Path(sys.executable).with_name("ruff")
    ruff = str(beside_python) if beside_python.exists() else shutil.which("ruff")
    assert ruff, "ruff is part of the test extras: pip install -e '.[test]'"
    result = subprocess.run(
        [ruff, "check", "--output-format", "concise", "helpers", "tools", "tests",
         "notebooks", "solutions", "exercises"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
