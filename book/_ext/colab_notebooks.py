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
"""
from __future__ import annotations

import argparse
from pathlib import Path

import jupytext
import nbformat
import yaml

REPO = "https://github.com/deep-learning-course/week03-mlps-backprop"

SETUP_MD = (
    "**Running on Colab?** Run the next cell first: it installs `labcode`, the tested "
    "code this page imports, from the course repository. The page is written for the "
    "course book, so some MyST markup (`{{glue:text}}`, directives) shows as plain text "
    "here; the book shows it rendered."
)
SETUP_CODE = '%pip install --quiet "labcode @ git+{repo}@{ref}" "myst-nb>=1.1,<2"'


def toc_pages(root: Path) -> list[Path]:
    """The .md pages listed in _toc.yml, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return [root / f"{name}.md" for name in files]


def convert(page: Path, repo: str, ref: str) -> nbformat.NotebookNode | None:
    """The Colab notebook of one page; None for a page of prose only (no code cells: it has
    no jupytext header and no Colab button, and jupytext could mistake it for Pandoc)."""
    notebook = jupytext.read(page, fmt="md:myst")
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
    parser.add_argument("--repo", default=REPO, help="repository to install labcode from")
    parser.add_argument("--ref", default="main", help="branch or commit to install labcode from")
    args = parser.parse_args(argv)
    root = Path.cwd()
    for page in toc_pages(root):
        notebook = convert(page, args.repo, args.ref)
        if notebook is None:
            print(f"{page.relative_to(root)}: prose only, no notebook")
            continue
        target = args.out / page.relative_to(root).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        print(f"{page.relative_to(root)} -> {target}")


if __name__ == "__main__":
    main()
