"""The notebooks students download: ``_sources/<page>.ipynb`` for every executable page.

sphinx-book-theme copies myst-nb's executed notebook there for the download button.
myst-nb reads a MyST page into a notebook with random cell ids (nbformat's
``new_code_cell``), so two builds of the same commit wrote different downloads. Here each
download is rewritten with ids numbered in page order: same page, same bytes.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from sphinx.application import Sphinx


def _write_downloads(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for path in sorted(Path(app.outdir, "_sources").rglob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            cell["id"] = f"cell-{index}"
        nbformat.write(notebook, path)


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", _write_downloads)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
