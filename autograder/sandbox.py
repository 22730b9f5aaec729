"""Run one submission inside its sandbox: ``python sandbox.py NOTEBOOK CALLS_JSON PRIVATE...``.

grade.py starts this script in a process of its own, in a scratch folder that holds only a
copy of the notebook, with a time limit, a memory limit (``resource.setrlimit``) and, when
the grader runs as root, as the unprivileged user ``nobody``. It

1. runs every code cell of the notebook in order, as Jupyter's "Run all" with errors shown
   (a cell that raises does not stop the next);
2. then calls the Part A names the notebook defined on the inputs in ``CALLS_JSON``, and
   runs the self-checks of ``labcode.checks`` on them, as the student's own cells do;
3. prints one line: the token grade.py gave it, then JSON of what it saw (tensors as
   ``torch.save`` bytes).

It never holds the tests or what they expect: grade.py judges the results in its own
process. Before the first cell it installs an audit hook (PEP 578) that refuses, with a
PermissionError, opening or listing anything under the PRIVATE folders (the grader, its tests, the
output and the other submissions), writing or deleting outside the scratch folder, starting
a process, loading a C library and opening a socket; each refusal is reported.
"""
from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys
import time


def main() -> None:
    notebook, calls, private = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    token = os.environ.pop("GRADER_TOKEN", "")
    report = os.fdopen(os.dup(1), "w")  # grade.py reads this; the cells' prints are captured

    def say(kind: str, value) -> None:
        report.write(f"{token} {kind} {json.dumps(value)}\n")
        report.flush()

    # What the notebook and the calls use, imported before the hook refuses C libraries.
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401  (builds the font cache before the hook)
    import nbformat
    import torch
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    import labcode
    from labcode.checks import check_linear_backward, check_mlp, check_training

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    cells = [c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    refused: list[str] = []
    sys.addaudithook(_guard(os.getcwd(), private, refused))

    errors = []
    for index, source in enumerate(cells, start=1):
        say("cell", index)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            result = shell.run_cell(source, store_history=False, silent=True)
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            errors.append({"cell": index, "error": f"{type(error).__name__}: {error}"[:300]})
    namespace = shell.user_ns
    matplotlib.pyplot.close("all")
    say("cells", {"count": len(cells), "errors": errors})

    checks = {"MLP": check_mlp, "train": check_training, "linear_backward": check_linear_backward}
    seen = {"defined": {}, "checks": {}, "measured": {}}
    for name in calls["part_a"]:
        defined = callable(namespace.get(name))
        seen["defined"][name] = defined
        if defined:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                r = checks[name](namespace[name], **calls["check_arguments"][name])
            seen["checks"][name] = {"passed": r.passed, "codes": r.codes, "text": str(r),
                                    "diagnoses": [f"[{d.code}] {d.message}" for d in r.diagnoses]}
    say("checks", seen["checks"])

    measured = {}
    for what, measure in (("linear", _measure_linear), ("mlp", _measure_mlp),
                          ("training", _measure_training)):
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                measured[what] = measure(namespace, calls, torch, labcode)
        except BaseException as exc:  # the student's code raised: the tests say so
            measured[what] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        measured[what]["seconds"] = time.perf_counter() - start
    buffer = io.BytesIO()
    torch.save(measured, buffer)
    say("result", {"defined": seen["defined"], "refused": refused,
                   "measured": base64.b64encode(buffer.getvalue()).decode()})
    report.close()
    os._exit(0)  # no atexit handler or thread of the notebook's runs after the result


def _measure_linear(ns, calls, torch, labcode) -> dict:
    """The student's linear_backward on the hidden problems, and gradcheck of it in float64."""
    fn = ns["linear_backward"]
    outputs = []
    for batch, d_in, d_out, bias, seed in calls["hidden_linear"]:
        p = labcode.random_linear_problem(batch, d_in, d_out, bias=bias, seed=seed)
        try:
            got = fn(*p)
            got = [g.detach().clone() if isinstance(g, torch.Tensor) else repr(g)[:80]
                   for g in (got if isinstance(got, (tuple, list)) else [got])]
        except Exception as exc:
            got = f"{type(exc).__name__}: {exc}"[:300]
        outputs.append(got)
    batch, d_in, d_out, seed = calls["gradcheck"]
    p = labcode.random_linear_problem(batch, d_in, d_out, seed=seed)
    inputs = tuple(t.detach().clone().requires_grad_() for t in (p.x, p.weight, p.bias))
    function, gradcheck = labcode.linear_function(fn), {}
    for label, args in (("with bias", inputs), ("without bias", inputs[:2])):
        try:
            gradcheck[label] = bool(torch.autograd.gradcheck(function.apply, args, raise_exception=False))
        except Exception as exc:
            gradcheck[label] = f"{type(exc).__name__}: {exc}"[:300]
    return {"outputs": outputs, "gradcheck": gradcheck}


def _measure_mlp(ns, calls, torch, labcode) -> dict:
    """The student's MLP: parameter shapes, a 3-D batch, no hidden layer, activation=None."""
    MLP, spec = ns["MLP"], calls["hidden_mlp"]
    with labcode.seeded(spec["seed"]):
        model = MLP(*spec["args"])
        x = torch.randn(*spec["batch"])
        with torch.no_grad():
            out = model(x)
        linear = MLP(*spec["linear_args"])
        d_in, hidden, d_out = calls["starter_mlp"]
        shapes = lambda m: [tuple(q.shape) for q in m.parameters()]  # noqa: E731
        result = {"shapes": shapes(model), "batch_output": tuple(out.shape) if isinstance(
            out, torch.Tensor) else repr(type(out)), "linear_shapes": shapes(linear)}
        x1, x2 = torch.randn(64, d_in), torch.randn(64, d_in)
        for label, args in (("default", ()), ("activation=None", (None,))):
            try:
                m = MLP(d_in, hidden, d_out, *args)
                with torch.no_grad():
                    result[label] = [m(x1), m(x2), m(0.3 * x1 + 0.7 * x2)]
            except Exception as exc:
                result[label] = f"{type(exc).__name__}: {exc}"[:300]
    return result


def _measure_training(ns, calls, torch, labcode) -> dict:
    """The student's train on the student's MLP, as the starter's cell runs them; the logits on
    the held-out moons (grade.py computes the accuracy)."""
    t = calls["training"]
    X, y = labcode.make_moons(t["n_samples"], noise=t["noise"], seed=t["train_seed"])
    X_test, y_test = labcode.make_moons(t["n_samples"], noise=t["noise"], seed=t["test_seed"])
    torch.manual_seed(t["model_seed"])
    model = ns["MLP"](*calls["starter_mlp"])
    held_out = dict(zip(t["held_out"], (X_test, y_test)))
    history = ns["train"](model, X, y, epochs=t["epochs"], lr=t["lr"], **held_out)
    model.eval()
    with torch.no_grad():
        logits = model(X_test)

    def floats(values):
        try:
            return [float(v) for v in values]
        except Exception:
            return repr(values)[:80]
    return {"loss": floats(getattr(history, "loss", history)),
            "val_accuracy": floats(getattr(history, "val_accuracy", None)),
            "logits": logits.detach().clone()}


def _guard(scratch: str, private: list[str], refused: list[str]):
    """An audit hook that keeps the notebook inside ``scratch`` and away from ``private``."""
    scratch = os.path.realpath(scratch)
    private = [os.path.realpath(p) for p in private]
    realpath, fsdecode = os.path.realpath, os.fsdecode
    writing = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    changes = {"os.remove", "os.rename", "os.replace", "os.rmdir", "os.mkdir", "os.chmod",
               "os.chown", "os.link", "os.symlink", "os.truncate", "os.utime", "shutil.rmtree",
               "shutil.move", "shutil.copyfile", "shutil.copytree", "os.chdir"}
    spawns = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
              "os.fork", "os.forkpty", "pty.spawn", "ctypes.", "socket.connect", "socket.bind")

    def inside(path: str, root: str) -> bool:
        return path == root or path.startswith(root + os.sep)

    def refuse(what: str):
        refused.append(what)
        raise PermissionError(f"the grader refused: {what}")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, _, flags = args
            if not isinstance(path, (str, bytes)):
                return
            real = realpath(fsdecode(path))
            if inside(real, scratch):
                return
            if any(inside(real, p) for p in private):
                refuse(f"opening {real}")
            if (flags or 0) & writing and real != os.devnull:
                refuse(f"writing {real} (outside its folder)")
        elif event in ("os.listdir", "os.scandir", "glob.glob") and isinstance(args[0], (str, bytes)):
            real = realpath(fsdecode(args[0]))
            if not inside(real, scratch) and any(inside(real, p) for p in private):
                refuse(f"listing {real}")
        elif event in changes:
            for path in args[:2]:
                if isinstance(path, (str, bytes)) and not inside(realpath(fsdecode(path)), scratch):
                    refuse(f"{event} {realpath(fsdecode(path))} (outside its folder)")
        elif event.startswith(spawns):
            refuse(f"{event} (no process, C library or socket while grading)")

    return hook


if __name__ == "__main__":
    main()
