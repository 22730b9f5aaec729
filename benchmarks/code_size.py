"""How much code a reader meets, against the targets of issue 26.

* lines of code in labcode and book/_ext: a line holding a Python token (blank lines,
  comments and docstrings do not count), and, beside it, statements (logical lines), which
  do not change when a formatter splits a long call over several lines. The targets are
  compared with statements: issue 26 set them in lines (2,155 and 736 on 29d58bf, before
  the code had a formatter), and the same code formatted by ruff as pyproject.toml says
  (the issue's item 9) is 2,820 and 1,022 lines, 1,746 and 596 statements either way;
* the listings the pages show (every ``literalinclude`` with ``:pyobject:``): their lines,
  docstring included, and whether a decorator line sits in them (``@staticmethod``, which
  ``torch.autograd.Function`` requires, aside);
* on every page, the code lines of its cells: visible, folded (``hide-input``,
  ``hide-cell``, ``hide-output`` keeps the code in view) and hidden (``remove-cell``,
  ``remove-input``): hidden at most half the visible.

Usage: ``python benchmarks/code_size.py`` (prints tables; benchmarks/README.md keeps them).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_CODE = {
    tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
    tokenize.ENCODING, tokenize.ENDMARKER,
}  # fmt: skip
#: The sizes to stay within.
TARGETS = {"labcode + book/_ext": 1600, "labcode/checks": 550}  # statements
#: The same measures on 29d58bf, the commit issue 26 measured: (lines formatted, statements).
BEFORE = {"labcode + book/_ext": (2820, 1746), "labcode/checks": (1022, 596)}
LISTING_TARGETS = {"linear_backward": 20, "LinearFunction": 25, "collapse": 25}
HIDDEN_TAGS = {"remove-cell", "remove-input"}
FOLDED_TAGS = {"hide-input", "hide-cell"}


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def code_lines(path: Path) -> tuple[int, int]:
    """``(lines of code, statements)`` of a Python file."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    skip = _docstring_lines(tree)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    lines = {tok.start[0] for tok in tokens if tok.type not in NOT_CODE}
    statements = sum(isinstance(node, ast.stmt) for node in ast.walk(tree))
    docstrings = sum(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        for node in ast.walk(tree)
    )
    return len(lines - skip), statements - docstrings


def listings() -> list[tuple[str, str, int, bool]]:
    """``(page, object, lines, opens with a decorator)`` of every ``:pyobject:`` listing."""
    found = []
    pattern = r"```\{literalinclude\} (\S+)\n((?::[^\n]*\n)*)"
    for page in sorted((ROOT / "book").glob("*.md")):
        for path, options in re.findall(pattern, page.read_text(encoding="utf-8")):
            name = re.search(r":pyobject: (\S+)", options)
            if name is None:
                continue
            source = (page.parent / path).resolve().read_text(encoding="utf-8")
            node = next(n for n in ast.parse(source).body if getattr(n, "name", None) == name[1])
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = source.splitlines()[first - 1 : node.end_lineno]
            start, end = (
                re.search(r":start-at: (.*)", options),
                re.search(r":end-at: (.*)", options),
            )
            if start:
                lines = lines[next(i for i, ln in enumerate(lines) if start[1] in ln) :]
            if end:
                lines = lines[: next(i for i, ln in enumerate(lines) if end[1] in ln) + 1]
            # @staticmethod is the autograd.Function form itself; any other decorator counts
            decorated = any(
                ln.strip().startswith("@") and ln.strip() != "@staticmethod" for ln in lines
            )
            found.append((page.name, name[1], len(lines), decorated))
    return found


def page_code_lines(path: Path) -> dict[str, int]:
    """Code lines of a MyST page's cells by how the reader meets them: every line of a
    cell's body, blank ones too, but not its options (the ``---`` block or ``:tags:``)."""
    cells = re.findall(
        r"^```\{code-cell\}[^\n]*\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M
    )
    counts = {"visible": 0, "folded": 0, "hidden": 0}
    for cell in cells:
        lines = cell.splitlines()
        options = [ln for ln in lines if ln.startswith(":")]
        if lines and lines[0].strip() == "---":
            end = lines.index("---", 1)
            options, lines = lines[1:end], lines[end + 1 :]
        tags = set(re.findall(r"[\w-]+", " ".join(ln for ln in options if "tags" in ln)))
        kind = "hidden" if tags & HIDDEN_TAGS else "folded" if tags & FOLDED_TAGS else "visible"
        counts[kind] += sum(not ln.startswith(":") for ln in lines)
    return counts


def main() -> None:
    groups = {
        "labcode": sorted((ROOT / "labcode").rglob("*.py")),
        "book/_ext": sorted((ROOT / "book" / "_ext").glob("*.py")),
    }
    sizes = {path: code_lines(path) for files in groups.values() for path in files}
    print(f"{'file':44s}{'code lines':>12s}{'statements':>12s}")
    for path, (lines, statements) in sizes.items():
        print(f"{path.relative_to(ROOT).as_posix():44s}{lines:12d}{statements:12d}")

    def total(files) -> tuple[int, int]:
        return tuple(sum(sizes[p][i] for p in files) for i in (0, 1))

    measured = {
        "labcode + book/_ext": total(sizes),
        "labcode/checks": total([p for p in sizes if p.parent.name == "checks"]),
    }
    print(f"\n{'measure':44s}{'code lines':>12s}{'statements':>12s}{'target':>10s}")
    for name, (lines, statements) in measured.items():
        mark = "ok" if statements <= TARGETS[name] else "OVER"
        was = BEFORE[name]
        print(f"{name:44s}{lines:12d}{statements:12d}{f'<= {TARGETS[name]}':>10s}  {mark}")
        print(f"{'  on 29d58bf, formatted alike':44s}{was[0]:12d}{was[1]:12d}")

    print(f"\n{'listing (page: object)':44s}{'lines':>8s}{'target':>9s}  decorator")
    for page, name, lines, decorated in listings():
        target = LISTING_TARGETS.get(name)
        mark = "" if target is None else ("  ok" if lines <= target else "  OVER")
        limit = "" if target is None else f"<= {target}"
        print(
            f"{page + ': ' + name:44s}{lines:8d}{limit:>9s}  {'YES' if decorated else 'no'}{mark}"
        )

    print(
        f"\n{'page code cells':32s}{'visible':>9s}{'folded':>8s}{'hidden':>8s}  hidden <= visible/2"
    )
    for page in sorted((ROOT / "book").glob("*.md")):
        c = page_code_lines(page)
        if any(c.values()):
            mark = "ok" if 2 * c["hidden"] <= c["visible"] else "OVER"
            print(f"{page.name:32s}{c['visible']:9d}{c['folded']:8d}{c['hidden']:8d}  {mark}")


if __name__ == "__main__":
    main()
