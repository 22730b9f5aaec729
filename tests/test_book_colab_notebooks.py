"""The Colab notebooks of the book's pages (book/_ext/colab_notebooks.py): one valid .ipynb per
page with code cells, its first code cell installing labcode, the page's code unchanged."""
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import colab_notebooks  # noqa: E402

REPO = "https://github.com/example/course"

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

PAGE = HEADER + """
# A page

Some prose with a {glue:text}`number` in it.

```{code-cell} ipython3
import labcode
x = 1 + 1
```

More prose.

```{code-cell} ipython3
:tags: [hide-input]
print(x)
```
"""

PROSE = """# Prose only

A page with a `code span` and a plain code block, but no code cell:

```python
print("not a cell")
```
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_page_becomes_a_valid_notebook_with_the_install_cell_first(tmp_path):
    page = write(tmp_path / "book" / "page.md", PAGE)
    notebook = colab_notebooks.convert(page, REPO, "abc123")
    # Written and read back as Colab would: a valid nbformat 4 notebook.
    notebook = nbformat.reads(nbformat.writes(notebook), as_version=4)
    nbformat.validate(notebook)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds[:2] == ["markdown", "code"]
    assert "Running on Colab?" in notebook.cells[0].source
    assert notebook.cells[1].source == (
        f'%pip install --quiet "labcode @ git+{REPO}@abc123" "myst-nb>=1.1,<2"')
    code = [cell for cell in notebook.cells[2:] if cell.cell_type == "code"]
    assert [cell.source for cell in code] == ["import labcode\nx = 1 + 1", "print(x)"]
    assert code[1].metadata["tags"] == ["hide-input"]
    prose = "\n".join(c.source for c in notebook.cells[2:] if c.cell_type == "markdown")
    assert "# A page" in prose and "More prose." in prose
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert "jupytext" not in notebook.metadata


def test_a_page_without_code_cells_gets_no_notebook(tmp_path):
    assert colab_notebooks.convert(write(tmp_path / "prose.md", PROSE), REPO, "main") is None
    header_only = write(tmp_path / "empty.md", HEADER + "\n# Header, no cells\n")
    assert colab_notebooks.convert(header_only, REPO, "main") is None


def test_an_ipynb_page_is_converted_too(tmp_path):
    page = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("y = 2")]), page)
    notebook = colab_notebooks.convert(page, REPO, "main")
    assert [c.source for c in notebook.cells if c.cell_type == "code"][1:] == ["y = 2"]


def test_toc_sources_walks_parts_chapters_and_sections_in_order(tmp_path):
    for name in ("index.md", "a.md", "b.ipynb", "c.md", "d.md"):
        write(tmp_path / "book" / name, "x")
    write(tmp_path / "_toc.yml", yaml.safe_dump({
        "format": "jb-book", "root": "book/index",
        "parts": [{"caption": "One", "chapters": [
            {"file": "book/a", "sections": [{"file": "book/b.ipynb"},
                                            {"file": "book/c", "sections": [{"file": "book/d"}]}]}]},
                  {"caption": "Two", "chapters": [{"file": "book/a.md"}]}]}))
    assert [p.relative_to(tmp_path).as_posix() for p in colab_notebooks.toc_sources(tmp_path)] \
        == ["book/index.md", "book/a.md", "book/b.ipynb", "book/c.md", "book/d.md"]


def test_toc_sources_names_a_missing_page_or_root(tmp_path):
    write(tmp_path / "book" / "index.md", "x")
    write(tmp_path / "_toc.yml", "root: book/index\nchapters:\n  - file: book/gone\n")
    with pytest.raises(FileNotFoundError, match="'book/gone'"):
        colab_notebooks.toc_sources(tmp_path)
    write(tmp_path / "_toc.yml", "chapters:\n  - file: book/index\n")
    with pytest.raises(ValueError, match="'root'"):
        colab_notebooks.toc_sources(tmp_path)


def test_the_default_repository_is_the_books_repository_url(tmp_path):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert colab_notebooks.default_repo(ROOT) == config["repository"]["url"].rstrip("/")
    write(tmp_path / "_config.yml", "title: x\n")
    with pytest.raises(ValueError, match="repository.url"):
        colab_notebooks.default_repo(tmp_path)


@pytest.fixture
def book(tmp_path, monkeypatch):
    write(tmp_path / "_config.yml", f"repository:\n  url: {REPO}/\n")
    write(tmp_path / "_toc.yml", "root: book/index\nchapters:\n  - file: book/lab\n")
    write(tmp_path / "book" / "index.md", PROSE)
    write(tmp_path / "book" / "lab.md", PAGE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def install_cell(path: Path) -> str:
    return nbformat.read(path, as_version=4).cells[1].source


def test_main_writes_a_notebook_per_code_page_installing_from_the_config_repository(book):
    colab_notebooks.main(["out", "--ref", "feed"])
    assert sorted(p.relative_to(book / "out").as_posix()
                  for p in (book / "out").rglob("*") if p.is_file()) == ["book/lab.ipynb"]
    assert f"git+{REPO}@feed" in install_cell(book / "out" / "book" / "lab.ipynb")

    colab_notebooks.main(["again", "--repo", "https://github.com/fork/course"])
    assert "git+https://github.com/fork/course@main" in install_cell(
        book / "again" / "book" / "lab.ipynb")


def test_main_fails_when_no_page_has_code_cells(book):
    write(book / "book" / "lab.md", PROSE)
    with pytest.raises(SystemExit, match="no Colab notebook"):
        colab_notebooks.main(["out"])


def test_every_book_page_with_launch_buttons_gets_a_colab_notebook():
    """site_fixes points the Colab button of every notebook page (a kernelspec in its
    jupytext header) at blob/colab/<page>.ipynb: each of those pages must convert, with its
    code cells in order after the install cell; prose pages have no button and no notebook."""
    pages = colab_notebooks.toc_sources(ROOT)
    assert pages, "no page in _toc.yml"
    with_buttons = 0
    for page in pages:
        fmt = "md:myst" if page.suffix == ".md" else None
        has_kernel = "kernelspec" in jupytext.read(page, fmt=fmt).metadata
        notebook = colab_notebooks.convert(page, REPO, "main")
        assert (notebook is not None) == has_kernel, page
        if notebook is not None:
            with_buttons += 1
            cells = re.findall(r"^```\{code-cell\}", page.read_text(encoding="utf-8"), re.M)
            code = [c for c in notebook.cells if c.cell_type == "code"]
            assert len(code) == len(cells) + 1, page
    assert with_buttons, "no page of the book has code cells"
