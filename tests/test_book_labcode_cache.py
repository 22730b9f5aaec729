"""The book's execution cache must not outlive a change to labcode (book/_ext/labcode_cache.py)."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
import labcode_cache  # noqa: E402


@pytest.fixture
def project(tmp_path):
    (tmp_path / "labcode").mkdir()
    (tmp_path / "labcode" / "linear.py").write_text("A = 1\n")
    (tmp_path / "requirements.txt").write_text("torch==2.13.0\n")
    cache = tmp_path / "_build" / ".jupyter_cache"
    cache.mkdir(parents=True)
    (cache / "executed.ipynb").write_text("{}")
    app = SimpleNamespace(srcdir=str(tmp_path), outdir=str(tmp_path / "_build" / "html"))
    config = SimpleNamespace(nb_execution_cache_path="")
    return SimpleNamespace(root=tmp_path, cache=cache, app=app, config=config)


def build(p, docs=("book/index", "book/lesson"), failed=False):
    """One build as the extension sees it: returns the pages it forces to re-execute."""
    labcode_cache._check(p.app, p.config)
    env = SimpleNamespace(found_docs=set(docs))
    outdated = labcode_cache._outdated(p.app, env, set(), set(), set())
    labcode_cache._stamp(p.app, RuntimeError("a cell raised") if failed else None)
    return outdated


def test_cache_folder_is_where_myst_nb_puts_it(project):
    assert labcode_cache.cache_folder(project.app, project.config) == project.cache.resolve()


def test_digest_changes_with_labcode_source_requirements_and_new_modules(project):
    root = project.root
    first = labcode_cache.watched_digest(root)
    assert labcode_cache.watched_digest(root) == first
    (root / "labcode" / "linear.py").write_text("A = 2\n")
    second = labcode_cache.watched_digest(root)
    (root / "requirements.txt").write_text("torch==2.13.1\n")
    third = labcode_cache.watched_digest(root)
    (root / "labcode" / "extra.py").write_text("")
    fourth = labcode_cache.watched_digest(root)
    assert len({first, second, third, fourth}) == 4
    (root / "README.md").write_text("not watched")
    assert labcode_cache.watched_digest(root) == fourth


def test_first_build_clears_the_cache_and_re_executes_every_page(project):
    assert build(project) == ["book/index", "book/lesson"]
    assert not (project.cache / "executed.ipynb").exists()
    assert (
        project.cache / labcode_cache.STAMP_NAME
    ).read_text().strip() == labcode_cache.watched_digest(project.root)


def test_unchanged_labcode_keeps_the_cache_and_re_executes_nothing(project):
    build(project)
    (project.cache / "executed.ipynb").write_text("{}")
    assert build(project) == []
    assert (project.cache / "executed.ipynb").exists()


def test_a_labcode_edit_clears_the_cache_and_re_executes_every_page(project):
    build(project)
    (project.cache / "executed.ipynb").write_text("{}")
    (project.root / "labcode" / "linear.py").write_text("A = 2\n")
    assert build(project) == ["book/index", "book/lesson"]
    assert not (project.cache / "executed.ipynb").exists()


def test_a_failed_build_leaves_no_stamp_so_the_next_build_re_executes(project):
    (project.root / "labcode" / "linear.py").write_text("A = 3\n")
    build(project, failed=True)
    assert not (project.cache / labcode_cache.STAMP_NAME).exists()
    assert build(project) == ["book/index", "book/lesson"]


def test_a_page_that_glues_another_pages_values_is_re_read_when_any_page_changes(project):
    book = project.root / "book"
    book.mkdir()
    (book / "plan.md").write_text("Gradient {glue:text}`sample.md::probe_gradient:.4f`.\n")
    (book / "sample.md").write_text("glue('probe_gradient', g)\n")
    (book / "lesson.md").write_text("Its own {glue:text}`acc:.1%` only.\n")
    build(project, docs=("book/plan", "book/sample", "book/lesson"))  # the first, cold build
    env = SimpleNamespace(
        found_docs={"book/plan", "book/sample", "book/lesson"},
        doc2path=lambda doc: project.root / f"{doc}.md",
    )
    labcode_cache._check(project.app, project.config)
    assert labcode_cache._outdated(project.app, env, set(), {"book/sample"}, set()) == ["book/plan"]
    assert labcode_cache._outdated(project.app, env, set(), set(), set()) == []  # nothing changed
