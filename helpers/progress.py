"""Grade exercise notebooks: a progress table for learners, a CSV for instructors.

Each notebook runs top to bottom in a fresh kernel (as *Run All* would), then
the grader runs every check of its lesson itself, in that kernel, on the
names the exercise asks for. What the learner's own check cells printed is
recorded but not trusted: a deleted or edited check cell changes nothing.

Usage::

    python -m helpers.progress                        # your own exercises/ (or: make progress)
    python -m helpers.progress exercises/04_*.ipynb   # some notebooks
    python -m helpers.progress submissions/ --csv grades.csv   # a folder, any file names

Each exercise gets one verdict: ``Correct``, ``Incorrect: <hint>``, ``Not
attempted``, or ``Error: <what went wrong>`` (an exception in the learner's
code, a cell over the time limit, a kernel that died). A file that is not a
course exercise notebook is *not graded*; the exit status is 0 only when every
notebook was graded.

The learner's code runs with your rights: grade untrusted submissions in a
container (see the README's instructor section).

Example:
    >>> lesson_module("from helpers.checks import lesson04 as check")
    'helpers.checks.lesson04'
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import csv
import os
import re
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HELPERS = Path(__file__).resolve().parent
ROOT = HELPERS.parent
# The environment of every kernel the course starts (the grader, tools/run_notebooks.py and
# the tests): the course's models are tiny, so one torch thread is as fast as many and two
# kernels side by side stop fighting over two cores; a fixed hash seed keeps orders stable.
KERNEL_ENV = {"OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}

# Verdicts: the first three are helpers.checks.core's statuses (a test keeps them equal).
CORRECT, INCORRECT, NOT_ATTEMPTED = "correct", "incorrect", "not attempted"
ERROR, NOT_GRADED = "error", "not graded"
STATUSES = (CORRECT, INCORRECT, NOT_ATTEMPTED, ERROR, NOT_GRADED)

DEFAULT_TIMEOUT_S = 60  # per cell; a lesson's slowest cell takes a few seconds
STARTUP_TIMEOUT_S = 120  # for the grader's first import of the checks (and torch)
PROBE_TIMEOUT_S = 10  # after an interrupt, how long the kernel has to stop and answer again
MAX_KERNELS = 4  # a kernel that dies is replaced (skipping the cell that killed it) at most 3 times
RESULT_MIME = "application/x-course-grade+json"
_TIMEOUT_REPLY = {"ename": "CourseGraderTimeout", "evalue": "", "traceback": []}

_IMPORT_FROM = re.compile(r"^\s*from\s+helpers\.checks\s+import\s+(lesson\w+)", re.MULTILINE)
_IMPORT_MODULE = re.compile(r"^\s*import\s+helpers\.checks\.(lesson\w+)", re.MULTILINE)
_TITLE = re.compile(r"^#\s*(\d+)\b")
_EXERCISE_HEADING = re.compile(r"^#{1,6}\s*Exercise\s+(\w+)", re.MULTILINE | re.IGNORECASE)
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{4,}\b")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KERNEL_FILE = re.compile(r"\(\d+\.py, line (\d+)\)")


# --------------------------------------------------------------------------- reading notebooks
def cell_source(cell: Any) -> str:
    text = cell.get("source", "")
    return text if isinstance(text, str) else "".join(text)


def _python(source: str) -> str:
    """A cell's source with IPython magics and shell lines blanked (line numbers kept)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _parse(source: str) -> ast.Module | None:
    """Parse a cell as Python (magics and shell lines blanked); None if it is not Python."""
    try:
        return ast.parse(_python(source))
    except (SyntaxError, ValueError):
        return None


def lesson_module(source: str) -> str | None:
    """The check module that code imports (``from helpers.checks import lesson04 as check``)."""
    match = _IMPORT_FROM.search(source) or _IMPORT_MODULE.search(source)
    return f"helpers.checks.{match.group(1)}" if match else None


def check_aliases(notebook: Any, module: str) -> set[str]:
    """The names under which the notebook imported ``module`` (usually ``check``)."""
    package, _, name = module.rpartition(".")
    aliases = set()
    for cell in notebook.cells:
        tree = _parse(cell_source(cell)) if cell.get("cell_type") == "code" else None
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ImportFrom) and node.module == package:
                aliases |= {a.asname or a.name for a in node.names if a.name == name}
            elif isinstance(node, ast.Import):
                aliases |= {a.asname for a in node.names if a.name == module and a.asname}
    return aliases


@dataclass(frozen=True)
class CheckCall:
    """One ``check.qN(...)`` call found in a notebook: its argument expressions and cell."""

    name: str
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...]
    cell: int
    text: str


def check_calls(notebook: Any, module: str) -> dict[str, CheckCall]:
    """Every ``alias.name(...)`` call on the lesson's check module, by check name (first call wins).

    Only calls of the lesson's registered checks count: a lesson module may also offer helpers
    (such as a data generator) that the notebook calls through the same alias.
    """
    aliases = check_aliases(notebook, module) or {"check"}
    registered = _registered_names(module)
    calls: dict[str, CheckCall] = {}
    for index, cell in enumerate(notebook.cells):
        source = cell_source(cell)
        tree = _parse(source) if cell.get("cell_type") == "code" else None
        for node in ast.walk(tree) if tree else ():
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in aliases
                    and node.func.attr != "summary" and node.func.attr not in calls
                    and (registered is None or node.func.attr in registered)):
                calls[node.func.attr] = CheckCall(
                    name=node.func.attr,
                    args=tuple(ast.unparse(a) for a in node.args),
                    kwargs=tuple((k.arg or "", ast.unparse(k.value)) for k in node.keywords if k.arg),
                    cell=index,
                    text=ast.get_source_segment(_python(source), node) or "",
                )
    return calls


def _registered_names(module: str) -> set[str] | None:
    """The names of the checks ``module`` registers, or None if it cannot be imported here."""
    import importlib

    from helpers.checks.core import checks_of

    try:
        importlib.import_module(module)
    except Exception:  # not a course module: count every call, as before
        return None
    return {check.__name__ for check in checks_of(module)}


def rebound_checks(notebook: Any, module: str) -> set[str]:
    """Checks the notebook assigns to (``check.q1 = ...``): recorded, since the grader ignores them."""
    aliases = check_aliases(notebook, module) or {"check"}
    rebound = set()
    for cell in notebook.cells:
        tree = _parse(cell_source(cell)) if cell.get("cell_type") == "code" else None
        for node in ast.walk(tree) if tree else ():
            if (isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del))
                    and isinstance(node.value, ast.Name) and node.value.id in aliases):
                rebound.add(node.attr)
    return rebound


def exercise_sections(notebook: Any) -> list[str | None]:
    """For each cell, the number of the ``## Exercise k`` heading above it (None before the first)."""
    current: str | None = None
    sections = []
    for cell in notebook.cells:
        if cell.get("cell_type") == "markdown":
            found = _EXERCISE_HEADING.findall(cell_source(cell))
            if found:
                current = found[-1]
        sections.append(current)
    return sections


def names_defined(source: str) -> set[str]:
    """Top-level names a cell assigns, defines or imports (a regex guess if it does not parse)."""
    tree = _parse(source)
    if tree is None:
        found = re.findall(r"^(?:def|class)\s+(\w+)|^(\w+)\s*(?::[^=\n]*)?=(?!=)", source, re.MULTILINE)
        return {a or b for a, b in found}
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = node.targets if isinstance(node, ast.Assign) else [
                getattr(node, "target", None)] + [i.optional_vars for i in getattr(node, "items", [])]
            for target in targets:
                for sub in ast.walk(target) if target is not None else ():
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def identify_lesson(notebook: Any, path: Path) -> str | None:
    """The check module of an exercise notebook, read from the notebook itself.

    First the ``from helpers.checks import lessonNN`` line; failing that (the
    learner deleted it), a notebook with ``## Exercise k`` headings is taken to
    be lesson NN from its title (``# NN · ...``) or, last, its file name.
    """
    for cell in notebook.cells:
        if cell.get("cell_type") == "code" and (module := lesson_module(cell_source(cell))):
            return module
    if not any(exercise_sections(notebook)):
        return None
    for cell in notebook.cells:
        if cell.get("cell_type") == "markdown" and (match := _TITLE.match(cell_source(cell).lstrip())):
            return f"helpers.checks.lesson{match.group(1)}"
    match = re.match(r"(\d+)_", path.name)
    return f"helpers.checks.lesson{match.group(1)}" if match else None


def lesson_number(module: str) -> str:
    return module.rpartition(".")[2].removeprefix("lesson")


def reference_notebook(module: str) -> Any | None:
    """The course's own exercises (else solutions) notebook of a lesson: the canonical check calls."""
    import nbformat

    number = lesson_number(module)
    for folder, suffix in (("exercises", "_exercises"), ("solutions", "_solutions")):
        for path in sorted((ROOT / folder).glob(f"{number}_*{suffix}.ipynb")):
            try:
                return nbformat.read(path, as_version=4)
            except Exception:  # a broken reference only loses the canonical calls
                continue
    return None


# --------------------------------------------------------------------------- inside the kernel
def _kernel_plan(lesson: str, reference: dict[str, list[Any]]) -> dict[str, Any]:
    """Run in the graded kernel after the learner's cells: what was recorded, and what to check.

    Returns the verdicts the learner's own check calls last printed (recorded,
    not trusted) and, for every check the lesson registers, the argument
    expressions to grade it on: the course's exercise notebook's call, or the
    check's parameter names. The checks come from the registry in
    :mod:`helpers.checks.core`, so a notebook that rebinds ``check.q1`` changes
    nothing. (The modules are not reloaded: a lesson module may register
    things with torch when imported, and twice can break it.)
    """
    import importlib
    import inspect

    core = importlib.import_module("helpers.checks.core")
    importlib.import_module(lesson)  # already imported, unless the learner deleted that cell
    recorded = {c.__name__: c.last.status for c in core.checks_of(lesson) if getattr(c, "last", None)}
    plan = []
    for check in core.checks_of(lesson):
        args, kwargs = reference.get(check.__name__, (None, None))
        if args is None:
            args, kwargs = list(inspect.signature(check.__wrapped__).parameters), []
        plan.append({"name": check.__name__, "args": list(args), "kwargs": [list(k) for k in kwargs]})
    return {"recorded": recorded, "plan": plan}


def _kernel_grade(lesson: str, name: str, args: list[str], kwargs: list[list[str]],
                  namespace: dict[str, Any]) -> dict[str, str]:
    """Run one check on the learner's answers (looked up in ``namespace``); return its verdict."""
    core = sys.modules["helpers.checks.core"]
    check = {c.__name__: c for c in core.checks_of(lesson)}[name]
    values, named = [], {}
    for key, expression in [(None, a) for a in args] + [(k, e) for k, e in kwargs]:
        try:
            value = eval(expression, namespace)  # the course's own call, e.g. "logits_to_labels"
        except Exception as error:
            return {"status": "undefined", "message": f"{type(error).__name__}: {error}"}
        if key is None:
            values.append(value)
        else:
            named[key] = value
    try:
        outcome = check.evaluate(*values, **named)
    except KeyboardInterrupt:  # the grader's timeout: let it through
        raise
    except BaseException as error:  # SystemExit and the like from the learner's code
        return {"status": ERROR, "message": f"your code raised {type(error).__name__}: {error}"}
    return {"status": outcome.status, "message": outcome.message}


def _kernel_emit(nonce: str, result: dict[str, Any]) -> None:
    from IPython.display import display

    display({RESULT_MIME: {"nonce": nonce, "result": result}}, raw=True)


# --------------------------------------------------------------------------- results
@dataclass
class Verdict:
    """One exercise of one submission."""

    exercise: str
    status: str
    message: str = ""
    notes: list[str] = field(default_factory=list)

    def text(self, first_line: bool = True) -> str:
        """``Correct``, ``Incorrect: hint``, ``Not attempted``, ``Error: ...`` or ``Not graded: ...``."""
        message = self.message.splitlines()[0] if first_line and self.message else self.message
        label = {CORRECT: "Correct", INCORRECT: "Incorrect", NOT_ATTEMPTED: "Not attempted",
                 ERROR: "Error", NOT_GRADED: "Not graded"}[self.status]
        if self.status in (CORRECT, NOT_ATTEMPTED) or not message:
            return label
        return f"{label}: {message}"


@dataclass
class Submission:
    """A graded notebook: its lesson (``"04"``, or ``""`` if unknown) and one verdict per exercise."""

    path: Path
    shown: str
    lesson: str = ""
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    graded: bool = True
    reason: str = ""

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for verdict in self.verdicts:
            counts[verdict.status] += 1
        return counts


def _clean(text: str, workdir: str) -> str:
    """Messages without colour codes, memory addresses or the temporary folder: the same every run."""
    text = _ANSI.sub("", text).replace(workdir, ".")
    text = _KERNEL_FILE.sub(r"(line \1)", text)  # "(3581735.py, line 2)": the kernel's name for a cell
    return _ADDRESS.sub("0x…", text).strip()


def _first_line(source: str) -> str:
    line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    return line if len(line) <= 40 else line[:37] + "..."


def _cell_label(index: int, source: str) -> str:
    return f"cell {index + 1} (`{_first_line(source)}`)"


# --------------------------------------------------------------------------- running a notebook
@dataclass
class _CellEvent:
    kind: str  # "error", "timeout", "hung" (ignored the interrupt) or "died"
    text: str


class _Grader:
    """Grades one notebook: runs it in a kernel, then the lesson's checks in the same kernel."""

    def __init__(self, path: Path, shown: str, timeout: float) -> None:
        self.path, self.shown, self.timeout = path, shown, timeout
        self.nonce = secrets.token_hex(8)
        self.events: dict[int, _CellEvent] = {}  # by cell index: what went wrong there
        self.skip: set[int] = set()  # cells that killed (or hung) a kernel are not run again
        self.results: dict[str, dict[str, str]] = {}
        self.recorded: dict[str, str] = {}
        self.plan: list[dict[str, Any]] = []

    # .................................................................. entry point
    async def grade(self) -> Submission:
        import nbformat

        sub = Submission(self.path, self.shown)
        try:
            notebook = nbformat.read(self.path, as_version=4)
            if not isinstance(notebook.get("cells"), list):
                raise ValueError("it has no list of cells")
            for cell in notebook.cells:
                cell.setdefault("metadata", {})
                if cell.get("cell_type") == "code":
                    cell.setdefault("outputs", [])
        except Exception as error:
            return self._not_graded(sub, f"not a readable notebook ({type(error).__name__}: "
                                         f"{_first_line(str(error)) or 'empty'})")
        module = identify_lesson(notebook, self.path)
        if module is None:
            return self._not_graded(sub, "not a course exercise notebook (no `from helpers.checks "
                                         "import lessonNN` and no `## Exercise` headings)")
        sub.lesson = lesson_number(module)
        if not (HELPERS / "checks" / f"{module.rpartition('.')[2]}.py").is_file():
            return self._not_graded(sub, f"the course has no checks for lesson {sub.lesson} "
                                         f"(helpers/checks/lesson{sub.lesson}.py)")
        reference = reference_notebook(module)
        self.canonical = check_calls(reference, module) if reference is not None else {}
        self.learner_calls = check_calls(notebook, module)
        self.rebound = rebound_checks(notebook, module)
        self.notebook, self.module = notebook, module
        with tempfile.TemporaryDirectory(prefix="grade-") as workdir:
            self.workdir = workdir
            try:
                finished = await self._run_kernels()
            except Exception as error:  # the kernel could not even start
                return self._not_graded(sub, f"the kernel failed: {type(error).__name__}: "
                                             f"{_first_line(_clean(str(error), workdir))}")
            self._verdicts(sub, reference)
        if not finished:
            sub.graded = False
            sub.reason = f"the kernel died {MAX_KERNELS} times"
        return sub

    def _not_graded(self, sub: Submission, reason: str) -> Submission:
        sub.graded, sub.reason = False, reason
        sub.verdicts = [Verdict("-", NOT_GRADED, reason)]
        return sub

    # .................................................................. kernels
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        for name, value in KERNEL_ENV.items():  # one thread per kernel, a fixed hash seed
            env.setdefault(name, value)
        env["MPLBACKEND"] = "Agg"  # plots are not graded: do not render them
        env["TQDM_DISABLE"] = "1"
        env["PYTHONHASHSEED"] = KERNEL_ENV["PYTHONHASHSEED"]  # the same notebook, the same run
        return env

    async def _run_kernels(self) -> bool:
        import nbformat
        from nbclient import NotebookClient

        # nbclient stores each executed cell back into the notebook it was given: give it a copy,
        # with one more cell at the end for the grader's own code.
        scratch = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("") for _ in self.notebook.cells])
        scratch.cells.append(nbformat.v4.new_code_cell(""))
        self.scratch_index = len(scratch.cells) - 1
        for _ in range(MAX_KERNELS):
            client = NotebookClient(
                scratch, timeout=self.timeout, kernel_name="python3", allow_errors=True,
                interrupt_on_timeout=True, error_on_timeout=_TIMEOUT_REPLY, iopub_timeout=PROBE_TIMEOUT_S,
                shutdown_kernel="immediate", record_timing=False,
                resources={"metadata": {"path": self.workdir}},
            )
            # The kernel's own stderr (start-up warnings) would only clutter the report.
            async with client.async_setup_kernel(env=self._env(), stderr=subprocess.DEVNULL):
                if await self._session(client):
                    return True
        return False

    async def _session(self, client: Any) -> bool:
        """One kernel's run; False if it died (the cell or check that killed it is then skipped)."""
        from nbclient.exceptions import DeadKernelError

        # Import the checks (and so torch) first, under a generous limit: a slow start of the
        # machine should not count against the learner's first cell.
        timeout, client.timeout = client.timeout, max(client.timeout, STARTUP_TIMEOUT_S)
        try:
            await self._execute(client, "import helpers.checks.core", self.scratch_index)
        finally:
            client.timeout = timeout
        cells = self.notebook.cells
        for index, cell in enumerate(cells):
            if cell.get("cell_type") != "code" or index in self.skip or not cell_source(cell).strip():
                continue
            try:
                outcome = await self._execute(client, cell_source(cell), index)
            except DeadKernelError:
                self.events[index] = _CellEvent("died", "the kernel died")
                self.skip.add(index)
                return False
            if outcome is not None:
                self.events[index] = outcome
                if outcome.kind in ("timeout", "hung"):
                    self.skip.add(index)  # if the kernel has to be replaced, do not wait again
                if outcome.kind == "hung":
                    return False
        try:
            reference = {name: [list(c.args), [list(k) for k in c.kwargs]]
                         for name, c in self.canonical.items()}
            planned = await self._ask(client, f"_kernel_plan({self.module!r}, {reference!r})")
        except DeadKernelError:
            return False
        if planned is None or "plan" not in planned:
            why = f": {planned['message']}" if planned else ""
            raise RuntimeError(f"the checks could not be loaded in the kernel{why}")
        self.recorded, self.plan = planned["recorded"], planned["plan"]
        for item in self.plan:
            name = item["name"]
            if name in self.results:
                continue
            call = f"_kernel_grade({self.module!r}, {name!r}, {item['args']!r}, {item['kwargs']!r}, globals())"
            try:
                result = await self._ask(client, call)
            except DeadKernelError:
                self.results[name] = {"status": "died", "message": ""}
                return False
            self.results[name] = result or {"status": "noresult", "message": ""}
            if self.results[name]["status"] == "hung":
                return False
        return True

    async def _execute(self, client: Any, source: str, index: int) -> _CellEvent | None:
        """Run one cell; what went wrong, if anything (an error, a timeout, a kernel that hung)."""
        import nbformat

        cell = nbformat.v4.new_code_cell(source)
        self._last_outputs: list[Any] = []
        if await self._timed_out(client, cell, index):
            interrupted = any(o.get("ename") == "KeyboardInterrupt" for o in cell.outputs)
            if not interrupted and not await self._responds(client):
                return _CellEvent("hung", f"timeout (ran longer than {self.timeout:g} s and "
                                          "ignored the interrupt)")
            return _CellEvent("timeout", f"timeout (ran longer than {self.timeout:g} s)")
        self._last_outputs = list(cell.outputs)
        for output in cell.outputs:
            if output.get("output_type") == "error":
                return _CellEvent("error", f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
        return None

    async def _timed_out(self, client: Any, cell: Any, index: int) -> bool:
        """Execute a cell; whether it ran over the client's timeout (the kernel was then interrupted).

        nbclient interrupts the kernel, answers with ``_TIMEOUT_REPLY`` at once and
        gives the cell's output ``iopub_timeout`` seconds to finish, so that no
        reader of the cell's messages outlives it (one would swallow later cells' output).
        """
        replies: list[dict] = []
        client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.append(execute_reply)
        await client.async_execute_cell(cell, index)
        content = replies[-1].get("content", {}) if replies and replies[-1] else {}
        return content.get("ename") == _TIMEOUT_REPLY["ename"]

    async def _responds(self, client: Any) -> bool:
        """After an interrupt: does the kernel run a trivial cell within PROBE_TIMEOUT_S?"""
        import nbformat

        timeout, client.timeout = client.timeout, PROBE_TIMEOUT_S
        try:
            return not await self._timed_out(client, nbformat.v4.new_code_cell("None"), self.scratch_index)
        finally:
            client.timeout = timeout

    async def _ask(self, client: Any, expression: str) -> dict | None:
        """Evaluate a grader function in the kernel; its result (None if it showed none and did not fail)."""
        source = ("from helpers.progress import _kernel_emit, _kernel_grade, _kernel_plan\n"
                  f"_kernel_emit({self.nonce!r}, {expression})")
        event = await self._execute(client, source, self.scratch_index)
        if event is not None and event.kind in ("timeout", "hung"):
            return {"status": event.kind, "message": event.text}
        for output in self._last_outputs:
            data = output.get("data", {}).get(RESULT_MIME)
            if isinstance(data, dict) and data.get("nonce") == self.nonce:
                return data["result"]
        if event is not None:
            return {"status": "graderror", "message": event.text}
        return None

    # .................................................................. verdicts
    def _owner(self, index: int, source: str, sections: list[str | None],
               heading_to_check: dict[str, str]) -> str | None:
        """Which exercise a cell belongs to: its check call, the answer it defines, or its heading."""
        names = [item["name"] for item in self.plan]
        for name in names:
            if re.search(rf"\.\s*{re.escape(name)}\s*\(", source):
                return name
        defined = names_defined(source)
        for item in self.plan:
            wanted = {n for expr in item["args"] + [e for _, e in item["kwargs"]]
                      for n in re.findall(r"[A-Za-z_]\w*", expr)}
            if defined & wanted:
                return item["name"]
        return heading_to_check.get(sections[index] or "")

    def _verdicts(self, sub: Submission, reference: Any) -> None:
        sections = exercise_sections(self.notebook)
        heading_to_check: dict[str, str] = {}
        if reference is not None:
            ref_sections = exercise_sections(reference)
            for call in self.canonical.values():
                if ref_sections[call.cell] is not None:
                    heading_to_check.setdefault(ref_sections[call.cell], call.name)
        owned: dict[str | None, list[tuple[int, _CellEvent]]] = {}
        for index in sorted(self.events):
            if index >= len(self.notebook.cells):
                continue
            source = cell_source(self.notebook.cells[index])
            if "raises-exception" in self.notebook.cells[index].metadata.get("tags", []) \
                    and self.events[index].kind == "error":
                continue  # the notebook means this cell to fail
            owner = self._owner(index, source, sections, heading_to_check)
            owned.setdefault(owner, []).append((index, self.events[index]))
        for index, event in owned.get(None, []):
            sub.notes.append(f"{_cell_label(index, cell_source(self.notebook.cells[index]))}: "
                             f"{_clean(event.text, self.workdir)}")
        if not self.plan:  # no kernel got as far as the checks: list the exercises the course has
            self.plan = [{"name": c.name, "args": list(c.args), "kwargs": [list(k) for k in c.kwargs]}
                         for c in self.canonical.values()]
        for item in self.plan:
            sub.verdicts.append(self._verdict(item, owned.get(item["name"], [])))
        if not sub.verdicts:
            self._not_graded(sub, f"lesson {sub.lesson} has no checks")
        if any(v.status == NOT_GRADED for v in sub.verdicts):
            sub.graded = False

    def _verdict(self, item: dict[str, Any], events: list[tuple[int, _CellEvent]]) -> Verdict:
        name = item["name"]
        result = self.results.get(name, {"status": "missing", "message": ""})
        status = result["status"]
        label = {i: _cell_label(i, cell_source(self.notebook.cells[i])) for i, _ in events}
        verdict: Verdict
        timeouts = [(i, e) for i, e in events if e.kind in ("timeout", "hung")]
        deaths = [(i, e) for i, e in events if e.kind == "died"]
        errors = [(i, e) for i, e in events if e.kind == "error"]
        if timeouts:
            i, event = timeouts[0]
            verdict = Verdict(name, ERROR, f"{event.text} in {label[i]}")
        elif status in ("timeout", "hung"):
            verdict = Verdict(name, ERROR, f"timeout (checking your answer ran longer than "
                                           f"{self.timeout:g} s)")
        elif status == "died":
            verdict = Verdict(name, ERROR, "the kernel died while checking your answer")
        elif deaths:
            verdict = Verdict(name, ERROR, f"the kernel died in {label[deaths[0][0]]}")
        elif status == "missing":
            verdict = Verdict(name, NOT_GRADED, "the kernel died before the checks ran")
        elif status in ("undefined", "graderror", "noresult"):
            if errors:
                i, event = errors[0]
                verdict = Verdict(name, ERROR, f"{_clean(event.text, self.workdir)} in {label[i]}")
            else:
                why = result["message"] or "the check gave no result"
                arguments = ", ".join(item["args"] + [f"{k}={e}" for k, e in item["kwargs"]])
                hint = f" (the exercise asks for {arguments})" if status == "undefined" else ""
                verdict = Verdict(name, ERROR, f"{_clean(why, self.workdir)}{hint}")
        elif status not in STATUSES:  # a status this grader does not know: say so, do not guess
            verdict = Verdict(name, ERROR, f"the check answered {status!r}: {result['message']}")
        else:
            verdict = Verdict(name, status, _clean(result["message"], self.workdir))
            for i, event in errors:
                verdict.notes.append(f"{label[i]} raised {_clean(event.text, self.workdir)}")
        self._notes_on_check_cell(item, verdict)
        return verdict

    def _notes_on_check_cell(self, item: dict[str, Any], verdict: Verdict) -> None:
        name = item["name"]
        canonical, learner = self.canonical.get(name), self.learner_calls.get(name)
        if canonical is not None and learner is None:
            verdict.notes.append("its check cell was deleted; graded on "
                                 f"{', '.join(item['args'])} all the same")
        elif canonical is not None and (learner.args, learner.kwargs) != (canonical.args, canonical.kwargs):
            verdict.notes.append(f"its check cell was edited to `{learner.text}`; graded on "
                                 f"`{canonical.text}` as the exercise asks")
        if name in self.rebound:
            verdict.notes.append(f"the notebook replaces check.{name}; the grader used the course's check")
        recorded = self.recorded.get(name)
        if recorded is not None and recorded != verdict.status and verdict.status != ERROR:
            verdict.notes.append(f"the notebook's own check said {recorded}")


# --------------------------------------------------------------------------- many notebooks
def find_notebooks(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders searched for ``*.ipynb`` (checkpoints skipped), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb")
                            if ".ipynb_checkpoints" not in p.parts and p.is_file())
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def grade(paths: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT_S, jobs: int | None = None,
          progress: bool | None = None) -> list[Submission]:
    """Grade notebooks, ``jobs`` kernels at a time; one :class:`Submission` per notebook, in order.

    ``progress`` shows a tqdm bar over notebooks (None: only on a terminal).
    """
    from tqdm.auto import tqdm

    jobs = jobs or min(4, os.cpu_count() or 1)

    async def run_all() -> list[Submission]:
        limit = asyncio.Semaphore(jobs)
        bar = tqdm(total=len(paths), unit="notebook", desc="Grading", disable=None if progress is None
                   else not progress, file=sys.stderr)

        async def one(path: Path) -> Submission:
            async with limit:
                try:
                    sub = await _Grader(path, _shown(path), timeout).grade()
                except Exception as error:  # one bad submission never stops the batch
                    sub = Submission(path, _shown(path), graded=False,
                                     reason=f"the grader failed: {type(error).__name__}: {error}")
                    sub.verdicts = [Verdict("-", NOT_GRADED, sub.reason)]
                bar.update()
                return sub

        try:
            return list(await asyncio.gather(*(one(p) for p in paths)))
        finally:
            bar.close()

    return asyncio.run(run_all())


# --------------------------------------------------------------------------- reporting
def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def report(submissions: Sequence[Submission], width: int = 100) -> str:
    """The table a learner or instructor reads: each exercise's verdict, totals per lesson, notes."""
    rows = []
    for sub in submissions:
        for k, verdict in enumerate(sub.verdicts):
            text = verdict.text()
            text = text if len(text) <= width else text[: width - 1] + "…"
            rows.append([sub.shown if k == 0 else "", verdict.exercise, text])
    parts = [_table(rows, ["notebook", "exercise", "verdict"])]

    lessons: dict[str, dict[str, int]] = {}
    for sub in submissions:
        total = lessons.setdefault(sub.lesson or "?", {"notebooks": 0, **dict.fromkeys(STATUSES, 0)})
        total["notebooks"] += 1
        for status, count in sub.counts().items():
            total[status] += count
    totals = [[lesson, str(t["notebooks"]), *(str(t[s]) for s in STATUSES)]
              for lesson, t in sorted(lessons.items())]
    parts.append("Totals per lesson\n" + _table(totals, ["lesson", "notebooks", *STATUSES]))

    notes = []
    for sub in submissions:
        for note in sub.notes:
            notes.append(f"{sub.shown}: {note}")
        for verdict in sub.verdicts:
            notes += [f"{sub.shown} {verdict.exercise}: {note}" for note in verdict.notes]
    if notes:
        parts.append("Notes\n" + "\n".join(notes))
    not_graded = [sub for sub in submissions if not sub.graded]
    summary = f"Graded {len(submissions) - len(not_graded)} of {len(submissions)} notebooks."
    if not_graded:
        summary += " Not graded (see the table): " + ", ".join(s.shown for s in not_graded) + "."
    parts.append(summary)
    return "\n\n".join(parts)


CSV_FIELDS = ["submission", "lesson", "exercise", "status", "verdict", "notes"]


def write_csv(submissions: Sequence[Submission], file: Any) -> None:
    """One row per submission and exercise (a not-graded file gets one row with exercise ``-``)."""
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for sub in submissions:
        for verdict in sub.verdicts:
            writer.writerow([sub.shown, sub.lesson, verdict.exercise, verdict.status,
                             verdict.text(first_line=False), "; ".join(sub.notes + verdict.notes)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.progress",
        description="Run exercise notebooks in fresh kernels and report each exercise's verdict.",
        epilog="Exit status: 0 if every notebook was graded, 1 if some could not be, 2 on bad usage. "
               "The notebooks' code runs with your rights: grade untrusted submissions in a container.",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="notebooks or folders of notebooks (default: this course's exercises/)")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write one row per notebook and exercise")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                        help=f"seconds a cell (or a check) may run (default {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="notebooks graded at once (default: the number of CPUs, at most 4)")
    args = parser.parse_args(argv)
    try:
        import ipykernel  # noqa: F401
        import nbclient  # noqa: F401
    except ImportError as error:
        parser.error(f"{error.name} is missing: pip install nbclient ipykernel (make setup installs both)")
    paths = find_notebooks(args.paths or [ROOT / "exercises"])
    if not paths:
        parser.error("no notebooks found in " + " ".join(map(str, args.paths or [ROOT / "exercises"])))
    submissions = grade(paths, timeout=args.timeout, jobs=args.jobs)
    print(report(submissions))
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as file:
            write_csv(submissions, file)
        print(f"Wrote {args.csv}")
    return 0 if all(sub.graded for sub in submissions) else 1


if __name__ == "__main__":
    sys.exit(main())
