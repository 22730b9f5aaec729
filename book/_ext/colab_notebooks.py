"""Write Colab-ready ``.ipynb`` copies of the book's pages.

Why: Colab opens only ``.ipynb`` files from GitHub, and the pages are MyST ``.md``
notebooks that ``import labcode``. The deploy workflow runs this script and pushes the
result to the ``colab`` branch; ``site_fixes.py`` points each page's Colab button at
``blob/colab/<page>.ipynb`` (``course_colab_branch`` in ``_config.yml``).

Each notebook is the page converted by jupytext, with one cell prepended that installs
``labcode`` from this repository and ``myst-nb`` (the pages call ``myst_nb.glue``).
Colab already provides torch, numpy and matplotlib.

Usage (from the repository root)::

    python book/_ext/colab_notebooks.py OUT_DIR [--repo URL] [--ref BRANCH]

``--repo`` defaults to ``repository.url`` in ``_config.yml`` (the deploy workflow passes
the repository it runs in). Tests: tests/test_book_colab_notebooks.py.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import jupytext
import nbformat
import yaml

SETUP_MD = (
    "**Running on Colab?** Run the next cell first: it installs `labcode`, the tested "
    "code this page imports, from the course repository. The page is written for the "
    "course book, so some MyST markup (`{{glue:text}}`, directives) shows as plain text "
    "here; the book shows it rendered."
)
SETUP_CODE = '%pip install --quiet "labcode @ git+{repo}@{ref}" "myst-nb>=1.1,<2"'


def default_repo(root: Path) -> str:
    """``repository.url`` in ``root/_config.yml``: the repository the book is built from."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    url = (config.get("repository") or {}).get("url") if isinstance(config, dict) else None
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"{root / '_config.yml'}: expected repository.url (the repository "
                         f"to install labcode from), got {url!r}; or pass --repo")
    return url.strip().rstrip("/")


def toc_files(node) -> list[str]:
    """Every ``file:`` entry of a jb-book / jb-article ToC node, in reading order.

    Also used by tests/site to list the pages it visits."""
    out: list[str] = []
    if isinstance(node, dict):
        if "file" in node:
            out.append(str(node["file"]))
        for key in ("parts", "chapters", "sections"):
            out.extend(toc_files(node.get(key) or []))
    elif isinstance(node, list):
        for child in node:
            out.extend(toc_files(child))
    return out


def toc_sources(root: Path) -> list[Path]:
    """The source file (.md or .ipynb) of every page in ``root/_toc.yml``, in book order,
    each once. Also used by tests/binder."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    if not isinstance(toc, dict) or "root" not in toc:
        raise ValueError(f"{root / '_toc.yml'}: expected a mapping with a 'root' entry, "
                         f"got {toc!r:.80}")
    names = [str(toc["root"])] + toc_files(toc)
    out = []
    for name in dict.fromkeys(re.sub(r"\.(md|ipynb)$", "", n) for n in names):
        for suffix in (".md", ".ipynb"):
            if (root / (name + suffix)).is_file():
                out.append(root / (name + suffix))
                break
        else:
            raise FileNotFoundError(f"_toc.yml names {name!r}, which has no .md/.ipynb file")
    return out


def convert(page: Path, repo: str, ref: str) -> nbformat.NotebookNode | None:
    """The Colab notebook of one page; None for a page of prose only (no code cells: it has
    no jupytext header and no Colab button, and jupytext could mistake it for Pandoc)."""
    notebook = jupytext.read(page, fmt="md:myst" if page.suffix == ".md" else None)
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        return None
    setup = [
        nbformat.v4.new_markdown_cell(SETUP_MD),
        nbformat.v4.new_code_cell(SETUP_CODE.format(repo=repo, ref=ref)),
    ]
    notebook.cells = setup + notebook.cells
    notebook.metadata.pop("jupytext", None)  # a plain notebook, not a paired text file
    return notebook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output folder (page paths are kept)")
    parser.add_argument("--repo", help="repository to install labcode from "
                        "(default: repository.url in _config.yml)")
    parser.add_argument("--ref", default="main", help="branch or commit to install labcode from")
    args = parser.parse_args(argv)
    root = Path.cwd()
    repo = args.repo or default_repo(root)
    written = 0
    for page in toc_sources(root):
        notebook = convert(page, repo, args.ref)
        if notebook is None:
            print(f"{page.relative_to(root)}: prose only, no notebook")
            continue
        target = args.out / page.relative_to(root).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        written += 1
        print(f"{page.relative_to(root)} -> {target}")
    if not written:
        raise SystemExit("no page in _toc.yml has code cells: no Colab notebook written, "
                         "so every Colab button would open a missing file")


if __name__ == "__main__":
    main()
