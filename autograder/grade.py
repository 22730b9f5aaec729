"""Grade a class: ``python autograder/grade.py SUBMISSIONS_DIR --out OUT_DIR``.

Every file in SUBMISSIONS_DIR is one submission. Each notebook runs in a sandbox of its own
(sandbox.py: a Docker container where a Docker daemon answers and ``--image`` names an image,
otherwise a process with a time and a memory limit), in a scratch copy of itself; this
process then judges what it returned with otter-grader's test files (``autograder/tests``).
OUT_DIR gets:

* ``gradebook.csv``: one row per submission file: ``submission``, ``status``, ``reason``,
  ``total``, then the points of each test;
* ``feedback/<submission>.md``: the student's feedback (the hidden tests named, their
  results left for later unless ``--release-hidden``);
* ``manual/<question>.html``: Parts B and C, every student's answer to one question next to
  its rubric row (and the AI-use statements), and ``manual/index.html``.
"""
from __future__ import annotations

import argparse
import base64
import csv
import html
import io
import json
import os
import pwd
import re
import resource
import secrets
import signal
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests import autograder.*

import nbformat  # noqa: E402
from nbformat.reader import NotJSONError  # noqa: E402
import torch  # noqa: E402
from otter.test_files import ExceptionTestFile  # noqa: E402

from autograder import assignment  # noqa: E402

HERE = Path(__file__).resolve().parent
SANDBOX, TESTS = HERE / "sandbox.py", HERE / "tests"


@dataclass
class Submission:
    """One submission as the sandbox saw it; the tests read it and call ``require``."""

    file: Path
    status: str = "ok"
    reason: str = ""
    defined: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)
    measured: dict = field(default_factory=dict)
    refused: list = field(default_factory=list)
    cell_errors: list = field(default_factory=list)
    notebook: nbformat.NotebookNode | None = None
    seconds: float = 0.0

    def require(self, *names: str) -> None:
        """Fail the test unless the notebook defined each of ``names``."""
        missing = [n for n in names if not self.defined.get(n)]
        if missing:
            raise AssertionError(f"the notebook does not define {', '.join(missing)} "
                                 "(the starter's TODO cells ask for them)")

    def part(self, what: str, *names: str) -> dict:
        """What the sandbox measured for ``what``; fails the test if the student's code raised."""
        self.require(*names)
        found = self.measured.get(what, {})
        if "error" in found:
            raise AssertionError(f"your code raised {found['error']}")
        return found


def docker_available() -> bool:
    """True where a Docker daemon answers (on these machines the client is there, the daemon not)."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def read_notebook(file: Path, sub: Submission) -> bool:
    """Read ``file`` as a notebook; on failure set the status and reason in words."""
    try:
        sub.notebook = nbformat.reads(file.read_text(encoding="utf-8"), as_version=4)
    except UnicodeDecodeError:
        sub.status, sub.reason = "not a notebook", "the file is not text (not UTF-8)"
        return False
    except Exception as exc:  # nbformat raises json's and its own errors
        kind = "not JSON" if isinstance(exc, (json.JSONDecodeError, NotJSONError)) else "not a notebook"
        sub.status, sub.reason = "not a notebook", f"{kind}: {_line(str(exc))}"
        return False
    if not any(c.cell_type == "code" and c.source.strip() for c in sub.notebook.cells):
        sub.status, sub.reason = "empty", "the notebook has no code to run"
        return False
    return True


def _limits(memory_mb: int, seconds: int, nobody: pwd.struct_passwd | None):
    def apply() -> None:  # runs in the child, before the sandbox starts
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20,) * 2)
        # CPU seconds, not wall time: a notebook is not cut off because the machine is busy
        # (SIGXCPU at the limit, SIGKILL 5 s later); grade.py stops it at 4 times the limit
        # of wall time whatever it does (sleeping, waiting on input).
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (100 << 20,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nobody is not None:  # as root: the OS too refuses writes outside the scratch folder
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
    return apply


def run_sandbox(sub: Submission, scratch: Path, opts: argparse.Namespace, private: list[Path],
                mpl: Path) -> None:
    """Run the notebook in ``scratch`` and fill ``sub`` with what the sandbox saw."""
    notebook = scratch / "submission.ipynb"
    shutil.copyfile(sub.file, notebook)
    token = secrets.token_hex(16)
    nobody = opts.nobody
    if nobody is not None:
        for path in (scratch, notebook):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
    args = [str(notebook), json.dumps(assignment.calls()), *map(str, private)]
    container = f"grade-{token[:16]}"
    if opts.container:
        os.chmod(scratch, 0o777)  # the container's user, nobody, works in it
        os.chmod(notebook, 0o644)
        command = ["docker", "run", "--rm", f"--name={container}", "--network=none",
                   f"--memory={opts.memory_mb}m", "--cpus=1", f"--ulimit=cpu={opts.time_limit}",
                   "--user=nobody", "-e", f"GRADER_TOKEN={token}",
                   "-v", f"{scratch}:/submission", "-v", f"{SANDBOX}:/grader/sandbox.py:ro",
                   "-w", "/submission", opts.image, "python", "/grader/sandbox.py",
                   "/submission/submission.ipynb", args[1]]
        env, preexec = None, None
    else:
        command = [sys.executable, "-I", str(SANDBOX), *args]
        env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": str(scratch),
               "TMPDIR": str(scratch), "IPYTHONDIR": str(scratch / ".ipython"),
               "MPLCONFIGDIR": str(mpl), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "GRADER_TOKEN": token}
        preexec = _limits(opts.memory_mb, opts.time_limit, nobody)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=scratch, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True,
                               preexec_fn=preexec)
    try:
        stdout, stderr = process.communicate(timeout=4 * opts.time_limit)
        timed_out = False
    except subprocess.TimeoutExpired:
        if opts.container:
            subprocess.run(["docker", "kill", container], capture_output=True, timeout=60)
        os.killpg(process.pid, 9)  # the whole session: anything the notebook started too
        stdout, stderr = process.communicate()
        timed_out = True
    sub.seconds = time.perf_counter() - start
    said: dict = {"cell": 0}
    for line in stdout.decode("utf-8", "replace").splitlines():
        mark, _, rest = line.partition(" ")
        if mark == token:
            kind, _, value = rest.partition(" ")
            said[kind] = json.loads(value)
    if "result" not in said and process.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        timed_out = True  # the CPU limit
    cells = said.get("cells", {})
    sub.cell_errors = cells.get("errors", [])
    sub.checks = said.get("checks", {})
    if "result" in said:
        result = said["result"]
        sub.defined, sub.refused = result["defined"], result["refused"]
        sub.measured = torch.load(io.BytesIO(base64.b64decode(result["measured"])),
                                  weights_only=True)
    count = len([c for c in sub.notebook.cells if c.cell_type == "code"])
    if timed_out:
        sub.status = "timeout"
        sub.reason = (f"stopped at the time limit ({opts.time_limit} s) while running code cell "
                      f"{said['cell']} of {count}")
    elif "result" not in said:
        memory = "MemoryError" in stderr.decode("utf-8", "replace")
        sub.status = "memory" if memory else "crashed"
        sub.reason = (f"stopped at the memory limit ({opts.memory_mb} MiB)" if memory else
                      f"the notebook's process ended ({_signal(process.returncode)}) in code cell "
                      f"{said['cell']} of {count} before the grader could test it")
    elif sub.refused:
        sub.status = "refused"
        sub.reason = _line("score withheld: the notebook tried " + "; ".join(sub.refused), 600)
    elif sub.cell_errors:
        first = sub.cell_errors[0]
        more = len(sub.cell_errors) - 1
        sub.status = "cell errors"
        sub.reason = (f"code cell {first['cell']} raised {_line(first['error'])}" +
                      (f" (and {more} later cell{'s' if more > 1 else ''})" if more else ""))


def _line(text: str, limit: int = 160) -> str:
    """``text`` on one line, at most ``limit`` characters (a gradebook cell)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _signal(code: int | None) -> str:
    return f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"


def unprivileged_user() -> pwd.struct_passwd | None:
    """``nobody``, where the grader runs as root and ``nobody`` can start this Python (here
    it cannot: Python lives under /root); otherwise None and the sandbox keeps the user."""
    if os.geteuid() != 0:
        return None
    nobody = pwd.getpwnam("nobody")
    def drop() -> None:
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    try:
        subprocess.run([sys.executable, "-I", "-c", "import torch, labcode"], preexec_fn=drop,
                       cwd="/", check=True, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    return nobody


def load_tests() -> list[ExceptionTestFile]:
    return [ExceptionTestFile.from_file(str(p)) for p in sorted(TESTS.glob("*.py"))]


def grade_one(file: Path, opts, tmp: Path, private: list[Path], mpl: Path) -> tuple[Submission, list]:
    sub = Submission(file)
    try:
        if read_notebook(file, sub):
            scratch = Path(tempfile.mkdtemp(dir=tmp))
            run_sandbox(sub, scratch, opts, private, mpl)
    except Exception as exc:  # one submission never stops the batch
        sub.status, sub.reason = "grader error", f"{type(exc).__name__}: {exc}"[:300]
    tests = load_tests()  # fresh objects: otter keeps results on them
    for test in tests:
        test.run({"submission": sub})
    return sub, tests


def write_gradebook(out: Path, graded: list[tuple[Submission, list]]) -> None:
    names = [tc.name for t in graded[0][1] for tc in t.test_cases]
    with open(out / "gradebook.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "status", "reason", "total", *names])
        for sub, tests in graded:
            points = [r.test_case.points if r.passed else 0 for t in tests for r in t.test_case_results]
            total = 0 if sub.status == "refused" else sum(points)
            writer.writerow([sub.file.name, sub.status, sub.reason, _num(total), *map(_num, points)])


def _num(x: float) -> str:
    return f"{x:g}"


def feedback(sub: Submission, tests: list, release_hidden: bool) -> str:
    """The student's feedback: visible tests with the self-checks' diagnoses; the hidden ones
    named and, until released, marked as still to come (never "all tests passed" while hidden
    tests fail: otter-grader#138)."""
    results = [r for t in tests for r in t.test_case_results]
    visible = [r for r in results if not r.test_case.hidden]
    hidden = [r for r in results if r.test_case.hidden]
    got = sum(r.test_case.points for r in visible if r.passed)
    lines = [f"# Feedback on {sub.file.name}", "",
             f"Status: **{sub.status}**" + (f": {sub.reason}" if sub.reason else "."), "",
             f"## Tests you could run yourself: {_num(got)} of "
             f"{_num(sum(r.test_case.points for r in visible))} points", ""]
    for r in visible:
        lines.append(f"- {'PASS' if r.passed else 'FAIL'} {r.test_case.name} "
                     f"({_points(r.test_case.points)})")
        if not r.passed:
            lines += ["", _indent(_message(r)), ""]
    hidden_points = _num(sum(r.test_case.points for r in hidden))
    if release_hidden:
        lines += ["", f"## Hidden tests: {_num(sum(r.test_case.points for r in hidden if r.passed))} "
                  f"of {hidden_points} points", ""]
        for r in hidden:
            lines.append(f"- {'PASS' if r.passed else 'FAIL'} {r.test_case.name}")
            if not r.passed:
                lines += ["", _indent(_message(r)), ""]
    else:
        lines += ["", f"## Hidden tests: {len(hidden)} tests, {hidden_points} points, results "
                  "still to come", "",
                  "These run cases your own checks do not (other shapes, batches and settings). "
                  "Their results come with your grade; passing the tests above does not mean "
                  "you pass these.", "", *(f"- {r.test_case.name} (hidden, "
                                            f"{_points(r.test_case.points)})" for r in hidden)]
    lines += ["", "Parts B and C are marked by hand against the rubric."]
    return "\n".join(lines) + "\n"


def _message(result) -> str:
    """What the test found, without otter's frame (the test file's line): the assertion's
    words, or the whole message for any other exception."""
    text = result.message.replace("❌ Test case failed\n", "")
    _, found, words = text.partition("AssertionError: ")
    return (words if found else text).strip()


def _points(x: float) -> str:
    return f"{_num(x)} point{'' if x == 1 else 's'}"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def answers(nb: nbformat.NotebookNode | None) -> dict[str, str]:
    """Each Part B and C question's answer: its text, and the code and text output in it."""
    found: dict[str, list[str]] = {}
    if nb is None:
        return {}
    starts = assignment.MANUAL
    current = None
    for cell in nb.cells:
        if cell.cell_type == "code":
            if current:
                outputs = "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                                  for o in cell.get("outputs", []))
                found[current].append(cell.source + (f"\n# output:\n{outputs}" if outputs else ""))
            continue
        for line in cell.source.splitlines():
            if any(line.startswith(stop) for stop in assignment.MANUAL_STOPS):
                current = None
            for q, start in starts.items():
                if line.startswith(start):
                    current = q
                    found.setdefault(q, [])
            if current:
                found[current].append(line)
    return {q: "\n".join(lines).strip() for q, lines in found.items()}


def rubric() -> dict[str, list[str]]:
    """The rubric rows of book/lesson-plan.md: criterion, then the 3, 2, 1 and 0 descriptions."""
    head = ["Criterion", "3 · Strong", "2 · Adequate", "1 · Weak", "0 · Missing"]
    rows = {}
    for line in assignment.RUBRIC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*\*\*([BC]\d)\.(.*?)\*\*(.*)", line)
        if match:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[match.group(1)] = cells
    rows["_head"] = head
    return rows


def write_manual(out: Path, graded: list[tuple[Submission, list]]) -> None:
    folder = out / "manual"
    folder.mkdir(exist_ok=True)
    rows, esc = rubric(), html.escape
    style = ("<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
             "td,th{border:1px solid #888;padding:4px 8px;vertical-align:top;text-align:left}"
             "pre{white-space:pre-wrap;margin:0}</style>")
    links = []
    for q in assignment.MANUAL:
        if q in rows:
            row = rows[q]
            head = ["<table><tr>", *(f"<th scope='col'>{esc(h)}</th>" for h in rows["_head"][1:]),
                    "</tr><tr>", *(f"<td>{esc(c)}</td>" for c in row[1:]), "</tr></table>"]
        else:  # the AI-use statements: read beside every row, as the AI-use policy says
            row = [f"{q}: the students' statements"]
            head = [f"<p>No rubric row of its own: {esc(assignment.AI_POLICY.name)} says how "
                    "a statement changes the score of the criterion it touches.</p>"]
        body = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
                f"<title>{esc(q)}: answers side by side</title>{style}</head><body>",
                f"<h1>{esc(row[0])}</h1>", *head,
                "<h2>Answers</h2><table><tr><th scope='col'>submission</th>"
                "<th scope='col'>answer</th><th scope='col'>score</th></tr>"]
        for sub, _ in graded:
            text = answers(sub.notebook).get(q, "") or f"(no answer: {sub.status})"
            body.append(f"<tr><td>{esc(sub.file.name)}</td><td><pre>{esc(text)}</pre></td><td></td></tr>")
        body.append("</table></body></html>")
        (folder / f"{q}.html").write_text("\n".join(body), encoding="utf-8")
        links.append(f"<li><a href='{q}.html'>{esc(row[0])}</a></li>")
    (folder / "index.html").write_text(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Parts B and C</title>"
        f"{style}</head><body><h1>Parts B and C, one page per question</h1><ul>{''.join(links)}"
        "</ul><p>C3 (defend) is scored in conversation: no written answer to lay out.</p>"
        "</body></html>", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS_DIR")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    parser.add_argument("--time-limit", type=int, default=120,
                        help="CPU seconds per notebook (120); wall time is cut at 4 times that")
    parser.add_argument("--memory-mb", type=int, default=4096, help="address space per notebook, MiB (4096)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="notebooks at once (CPUs)")
    parser.add_argument("--image", help="a Docker image with labcode installed (the Binder image)")
    parser.add_argument("--release-hidden", action="store_true",
                        help="put the hidden tests' results in the students' feedback")
    opts = parser.parse_args(argv)
    if not opts.submissions.is_dir():
        parser.error(f"SUBMISSIONS_DIR must be a folder, got {opts.submissions}")
    opts.container = bool(opts.image) and docker_available()
    opts.nobody = None if opts.container else unprivileged_user()
    files = sorted(p for p in opts.submissions.iterdir() if p.is_file() and not p.name.startswith("."))
    opts.out.mkdir(parents=True, exist_ok=True)
    print(f"grading {len(files)} submissions, {opts.jobs} at a time, each in "
          + ("a Docker container" if opts.container else
             f"its own process ({opts.time_limit} s, {opts.memory_mb} MiB, "
             + ("as nobody" if opts.nobody else "as this user") + ")"), flush=True)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp, \
            tempfile.TemporaryDirectory(prefix="grade-mpl-") as mpl:
        os.chmod(tmp, 0o711)  # the sandboxes may enter their own folder, not list the others
        if opts.nobody:
            os.chown(mpl, opts.nobody.pw_uid, -1)
        private = [HERE, assignment.REPO / "tests", opts.out.resolve(),
                   opts.submissions.resolve(), Path(tmp)]
        with ThreadPoolExecutor(opts.jobs) as pool:
            graded = list(pool.map(lambda f: grade_one(f, opts, Path(tmp), private, Path(mpl)), files))
    if not graded:
        parser.error(f"no submission files in {opts.submissions}")
    (opts.out / "feedback").mkdir(exist_ok=True)
    for sub, tests in graded:
        (opts.out / "feedback" / f"{sub.file.name}.md").write_text(
            feedback(sub, tests, opts.release_hidden), encoding="utf-8")
        print(f"{sub.file.name}: {sub.status} {sub.seconds:.1f} s {sub.reason}", flush=True)
    write_gradebook(opts.out, graded)
    write_manual(opts.out, graded)
    print(f"wrote {opts.out / 'gradebook.csv'}, {opts.out / 'feedback'}, {opts.out / 'manual'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
