"""How much code a reader meets: lines of code in labcode and book/_ext, and in the pages.

A line of code is a line holding a Python token: blank lines, comments and docstrings do
not count. Pages count every line inside their ``{code-cell}`` fences, hidden cells too.
Usage: ``python benchmarks/code_size.py`` (prints a table; the README keeps it).
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
#: The sizes to stay within (issue: "the math in front, the machinery small").
TARGETS = {"labcode + book/_ext": 1600, "labcode/checks": 550, "book/lesson.md code cells": 250}


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def code_lines(path: Path) -> int:
    source = path.read_text(encoding="utf-8")
    skip = _docstring_lines(ast.parse(source))
    lines = {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
             if tok.type not in NOT_CODE}
    return len(lines - skip)


def page_code_lines(path: Path) -> tuple[int, int]:
    """(lines of code in code cells, number of code cells) of a MyST page: every line of a
    cell's body, blank ones too, but not its options (the ``---`` block or ``:tags:``)."""
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", path.read_text(encoding="utf-8"),
                       re.S | re.M)
    total = 0
    for cell in cells:
        lines = cell.splitlines()
        if lines and lines[0].strip() == "---":
            lines = lines[lines.index("---", 1) + 1:]
        total += sum(not line.startswith(":") for line in lines)
    return total, len(cells)


def main() -> None:
    rows = []
    groups = {"labcode": sorted((ROOT / "labcode").rglob("*.py")),
              "book/_ext": sorted((ROOT / "book" / "_ext").glob("*.py"))}
    totals = {name: sum(code_lines(p) for p in files) for name, files in groups.items()}
    checks = sum(code_lines(p) for p in (ROOT / "labcode" / "checks").glob("*.py"))
    for name, files in groups.items():
        for path in files:
            rows.append((path.relative_to(ROOT).as_posix(), code_lines(path), ""))
    print(f"{'file':44s}{'code lines':>12s}")
    for name, n, _ in rows:
        print(f"{name:44s}{n:12d}")
    print()
    measured = {"labcode + book/_ext": totals["labcode"] + totals["book/_ext"],
                "labcode/checks": checks}
    for page in sorted((ROOT / "book").glob("*.md")):
        lines, cells = page_code_lines(page)
        if cells:
            measured[f"book/{page.name} code cells"] = lines
    print(f"{'measure':44s}{'lines':>8s}{'target':>9s}")
    for name, value in measured.items():
        target = TARGETS.get(name)
        mark = "" if target is None else ("  ok" if value <= target else "  OVER")
        print(f"{name:44s}{value:8d}{'' if target is None else f'<= {target}':>9s}{mark}")


if __name__ == "__main__":
    main()
