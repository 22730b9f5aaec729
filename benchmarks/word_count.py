"""How long the lesson is to read: words of prose per page of the lesson chapter.

The chapter is the page ``book/lesson`` and the sections under it in ``_toc.yml`` (read with
sphinx-external-toc, as the build reads it). Prose is what a reader reads as text: headings,
paragraphs, lists, tables, figure captions and folded (dropdown) text. Not counted: code cells
(their captions and alt text included), literal includes, math (``$...$``, ``$$...$$``),
glued numbers (``{glue:text}`...```), labels and directive options.

Beside the words the table prints two things the issue asks of every page: how many
predictions the reader commits to (``**Predict.**``) and the hidden (``remove-cell``) code
lines against the visible ones (hidden at most half the visible).

Usage: ``python benchmarks/word_count.py`` (prints a table; exit status 0 either way).
"""
from __future__ import annotations

import re
from pathlib import Path

from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "book/lesson"
#: Issue 21: at most 1,200 words of prose per page, 5,000 for the whole lesson.
PAGE_TARGET, LESSON_TARGET = 1200, 5000

FENCE = re.compile(r"^(`{3,}|:{3,})\s*(\{[\w:-]+\})?(.*)$")
KEEP_BODY = {"{figure}", "{dropdown}", "{admonition}", "{note}", "{tip}", "{warning}"}
INLINE = [
    (re.compile(r"\$\$.*?\$\$", re.S), " "),                        # display math on one line
    (re.compile(r"(?<!\\)\$[^$\n]+\$"), " "),                       # inline math
    (re.compile(r"\{glue(:\w+)?\}`[^`]*`"), " "),                   # glued numbers
    (re.compile(r"\{(?:doc|ref|numref|cite:[pt])\}`([^`<]*?)\s*(<[^`]*>)?`"), r" \1 "),  # link text
    (re.compile(r"^\([\w-]+\)=\s*$", re.M), " "),                   # labels
    (re.compile(r"<!--.*?-->", re.S), " "),
    (re.compile(r"^\s*\|?[\s:|-]+\|[\s:|-]*$", re.M), " "),         # table rules
]
WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")


def chapter_pages() -> list[str]:
    """The chapter's docnames in reading order: the lesson page, then its sections."""
    site_map = parse_toc_yaml(ROOT / "_toc.yml")
    pages = [CHAPTER]
    for subtree in site_map[CHAPTER].subtrees:
        pages += [str(item) for item in subtree.items if isinstance(item, str)]
    return pages


def split(text: str) -> tuple[str, list[tuple[bool, list[str]]]]:
    """(prose, [(hidden, code lines) per code cell]) of a MyST page."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)   # the jupytext header
    prose, cells = [], []
    lines, i = text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not (m.group(2) or m.group(1).startswith("`")):
            prose.append(lines[i])
            i += 1
            continue
        fence, directive, title = m.group(1), m.group(2), m.group(3)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), len(lines))
        body = lines[i + 1:end]
        if directive == "{code-cell}":
            if body[:1] == ["---"]:  # YAML options between two --- lines
                head = body.index("---", 1) + 1
            else:                    # or :key: value lines
                head = next((k for k, ln in enumerate(body) if not ln.startswith(":")), len(body))
            code = [ln for ln in body[head:] if ln.strip() and not ln.lstrip().startswith("#")]
            cells.append(("remove-cell" in "\n".join(body[:head]), code))
        elif directive in KEEP_BODY:
            prose.append(title)
            prose += [ln for ln in body if not re.match(r"^:[\w-]+:", ln)]
        i = end + 1
    return "\n".join(prose), cells


def count(path: Path) -> dict[str, int]:
    prose, cells = split(path.read_text(encoding="utf-8"))
    prose = re.sub(r"^\$\$.*?^\$\$", " ", prose, flags=re.S | re.M)  # display math blocks
    for rx, repl in INLINE:
        prose = rx.sub(repl, prose)
    return {"words": len(WORD.findall(prose)),
            "predictions": path.read_text(encoding="utf-8").count("**Predict.**"),
            "hidden": sum(len(c) for h, c in cells if h),
            "visible": sum(len(c) for h, c in cells if not h)}


def main() -> None:
    rows = [(name, count(ROOT / f"{name}.md")) for name in chapter_pages()]
    print(f"{'page':28s}{'words':>7s}{'target':>8s}  {'ok':3s}{'predict':>8s}{'hidden/visible code':>21s}")
    for name, c in rows:
        ok = c["words"] <= PAGE_TARGET and c["predictions"] >= 1 and 2 * c["hidden"] <= c["visible"]
        print(f"{name:28s}{c['words']:7d}{PAGE_TARGET:8d}  {'yes' if ok else 'NO':3s}"
              f"{c['predictions']:8d}{c['hidden']:>14d} / {c['visible']:<5d}")
    total = sum(c["words"] for _, c in rows)
    print(f"{'whole lesson':28s}{total:7d}{LESSON_TARGET:8d}  {'yes' if total <= LESSON_TARGET else 'NO'}")
    self_check = count(ROOT / "book" / "self-check.md")
    print(f"{'book/self-check (no target)':28s}{self_check['words']:7d}")


if __name__ == "__main__":
    main()
