"""The set-up cell in a simulated Colab: a fake ``google.colab`` module, /content and the
repository URL redirected to temporary folders, and pip recorded instead of run (no network).

Each case runs the cell's exact source (tools.course.setup_cell_source with only those two
values substituted) in a fresh Python, with the editable install of this checkout hidden, so
the course package can only come from the clone the cell made, as in Colab.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tools.course import ROOT, course_config, github_slug, setup_cell_source

CONFIG = course_config()
NAME = github_slug(CONFIG["repository"]).split("/")[1]

# Runs in the child Python: pretend to be Colab, record pip instead of running it, then
# execute the cell `runs` times in one interpreter (as Shift+Enter twice would).
CHILD = """
import json, subprocess, sys, types

google, colab = types.ModuleType("google"), types.ModuleType("google.colab")
google.colab = colab
sys.modules.update({"google": google, "google.colab": colab})
real_run = subprocess.run

def run(cmd, *args, **kwargs):
    if list(cmd[1:4]) == ["-m", "pip", "install"]:
        with open(PIP_LOG, "a") as log:
            log.write(json.dumps(cmd[4:]) + "\\n")
        return subprocess.CompletedProcess(cmd, 0)
    return real_run(cmd, *args, **kwargs)

subprocess.run = run
cell = compile(open(CELL).read(), "setup-cell", "exec")
for _ in range(RUNS):
    exec(cell, {"__name__": "__main__"})
import helpers.checks
print("RESULT", json.dumps({"on_path": sys.path.count(CLONE), "helpers": helpers.checks.__file__}))
"""

# Hides this checkout's editable install (a finder on sys.meta_path, or a path entry) from
# the child and from every Python it starts, since Colab has no such install.
SITECUSTOMIZE = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path[:] = [p for p in sys.path if p.rstrip("/") != ROOT]
"""


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    """A git repository with the course package and requirements.txt, on the course's branch."""
    repo = tmp_path_factory.mktemp("origin")
    shutil.copytree(ROOT / "helpers", repo / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "requirements.txt", repo / "requirements.txt")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-C", str(repo)]
    for args in (["init", "--quiet", "--initial-branch", CONFIG["branch"]], ["add", "."],
                 ["commit", "--quiet", "-m", "course"]):
        subprocess.run(git + args, check=True, capture_output=True)
    return repo


@pytest.fixture
def colab(tmp_path, origin):
    """run(runs=1, repo_url=origin) -> (CompletedProcess, result dict or None, pip calls)."""
    content = tmp_path / "content"
    content.mkdir()
    clone = content / NAME
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(f"ROOT = {str(ROOT)!r}\n" + SITECUSTOMIZE)
    pip_log = tmp_path / "pip.jsonl"

    def run(runs=1, repo_url=None):
        source = setup_cell_source()
        for old, new in ((f'"{CONFIG["repository"]}"', json.dumps(repo_url or origin.as_uri())),
                         (f'"/content/{NAME}"', json.dumps(str(clone)))):
            assert source.count(old) == 1, f"the set-up cell should name {old} once"
            source = source.replace(old, new)
        cell = tmp_path / "cell.py"
        cell.write_text(source)
        script = textwrap.dedent(f"""
            CELL, CLONE, PIP_LOG, RUNS = {str(cell)!r}, {str(clone)!r}, {str(pip_log)!r}, {runs}
        """) + CHILD
        env = {**os.environ, "PYTHONPATH": str(site), "GIT_TERMINAL_PROMPT": "0"}
        done = subprocess.run([sys.executable, "-c", script], cwd=content, env=env,
                              capture_output=True, text=True, timeout=120)
        results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        result = json.loads(results[0].removeprefix("RESULT ")) if results else None
        pips = [json.loads(line) for line in pip_log.read_text().splitlines()] if pip_log.exists() else []
        pip_log.unlink(missing_ok=True)
        return done, result, pips

    run.clone = clone
    return run


def assert_set_up(done, result, pips, clone, runs):
    assert done.returncode == 0, done.stdout + done.stderr
    assert result["helpers"].startswith(str(clone)), "the course package must come from the clone"
    assert result["on_path"] == 1, "the clone must be on sys.path exactly once"
    # pip installs the clone's requirements.txt (so Colab's packages within range stay), and
    # nothing unpinned: no package named outside the file, no --no-deps.
    assert pips == [["--quiet", "-r", str(clone / "requirements.txt")]] * runs


def test_cold_start_clones_installs_and_imports(colab):
    done, result, pips = colab()
    assert_set_up(done, result, pips, colab.clone, runs=1)
    assert "Cloned " in done.stdout and "was incomplete" not in done.stdout
    assert "| PyTorch " in done.stdout  # environment_report ran


def test_running_twice_keeps_the_clone_and_one_path_entry(colab):
    done, result, pips = colab(runs=2)
    assert_set_up(done, result, pips, colab.clone, runs=2)
    assert done.stdout.count("Cloned ") == 1, "the second run must reuse the clone"
    assert "was incomplete" not in done.stdout
    # and a new kernel (e.g. after a restart) finds the clone complete and keeps it
    marker = colab.clone / "learner-file.txt"
    marker.write_text("kept")
    done, result, pips = colab()
    assert_set_up(done, result, pips, colab.clone, runs=1)
    assert "Cloned " not in done.stdout and marker.exists()


@pytest.mark.parametrize("leftover", ["empty folder", "interrupted clone"])
def test_an_incomplete_clone_is_replaced_with_one_line_saying_so(colab, origin, leftover):
    colab.clone.mkdir()
    if leftover == "interrupted clone":  # git had written some files but not the package
        subprocess.run(["git", "clone", "--quiet", origin.as_uri(), str(colab.clone)], check=True)
        shutil.rmtree(colab.clone / "helpers" / "checks")
    done, result, pips = colab()
    assert_set_up(done, result, pips, colab.clone, runs=1)
    notes = [line for line in done.stdout.splitlines() if "was incomplete" in line]
    assert len(notes) == 1 and str(colab.clone) in notes[0], done.stdout
    assert "Cloned " in done.stdout


def test_a_failed_clone_says_what_to_do(colab, tmp_path):
    done, result, pips = colab(repo_url=(tmp_path / "no-such-repository").as_uri())
    assert done.returncode != 0 and result is None and pips == []
    assert "Could not clone" in done.stderr, done.stderr
    assert "online" in done.stderr and "private fork" in done.stderr
    assert "ModuleNotFoundError" not in done.stderr


def test_the_completeness_check_needs_nothing_colab_lacks():
    """The cell's check imports helpers.device and helpers.checks before pip has installed
    requirements.txt; they must not need torchmetrics (or its lightning-utilities)."""
    blocker = textwrap.dedent("""
        import sys

        class Missing:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torchmetrics", "lightning_utilities"):
                    raise ModuleNotFoundError(f"No module named {name!r}")

        sys.meta_path.insert(0, Missing())
        import helpers.device, helpers.checks
    """)
    source = setup_cell_source()
    assert '"import helpers.device, helpers.checks"' in source, "update this test with the cell's check"
    done = subprocess.run([sys.executable, "-c", blocker], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
