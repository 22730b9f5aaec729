"""Keep Jupyter Book's execution cache honest about ``labcode``.

Why this exists
---------------
``execute_notebooks: cache`` keys jupyter-cache on each page's *text* only. The pages
import ``labcode``, so an edit to ``labcode`` (or to the pinned stack in
``requirements.txt``) would leave the site showing outputs that the code no longer
produces. Two layers would go stale:

1. jupyter-cache (``_build/.jupyter_cache`` unless ``execute.cache`` /
   ``nb_execution_cache_path`` names another folder; myst-nb resolves the default as
   ``Path(outdir).parent / ".jupyter_cache"``), which holds the executed notebooks;
2. Sphinx's own environment (``_build/.doctrees``), which only re-reads a page whose
   source changed, so it would not even ask jupyter-cache again.

What it does
------------
* ``config-inited``: hash the relative path and bytes of every ``labcode/**/*.py``
  and ``requirements.txt`` (under the source folder, which is the repository root).
  Compare with the hash stamped inside the cache folder (``labcode.sha256``). If they
  differ, or there is no stamp, delete the jupyter cache folder.
* ``env-get-outdated``: after such a deletion, return every document, so Sphinx
  re-reads them all and myst-nb re-executes each page (the cache is empty).
* ``build-finished``: only when the build raised nothing, write the new stamp. A build
  that failed (a cell raised) leaves the old stamp, so the next build re-executes
  everything again rather than trusting a half-refreshed cache.

The stamp lives *inside* the cache folder so the two share one lifetime: deleting
the cache (``jupyter-book clean --all``, ``rm -rf _build``) also forgets the stamp,
and the next build re-executes everything.

Result: with nothing changed, a rebuild executes nothing; after a ``labcode`` edit,
every page runs again; after a page edit, jupyter-cache re-runs that page alone, and a page
that glues values from another page (the lesson plan's marker key) is re-read and rewritten
with it, so it never shows the numbers of an earlier build.
"""

import hashlib
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

#: Files whose content the executed pages depend on, relative to the source folder.
WATCHED_GLOBS = ("labcode/**/*.py", "requirements.txt")
#: A glue role that reads another page's value: ``{glue:text}`sample-submission.md::key```.
CROSS_PAGE_GLUE = re.compile(r"\{glue(:\w+)?\}`[^`]*::")
#: Name of the stamp file written inside the jupyter-cache folder.
STAMP_NAME = "labcode.sha256"


def watched_digest(root: Path) -> str:
    """SHA-256 over the relative paths and bytes of the watched files, in sorted order.

    Paths are hashed as well as contents so that adding, removing or renaming a module
    also counts as a change.
    """
    digest = hashlib.sha256()
    for path in sorted({p for pattern in WATCHED_GLOBS for p in root.glob(pattern) if p.is_file()}):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_folder(app: Sphinx, config: Config) -> Path:
    """The jupyter-cache folder, resolved exactly as myst-nb resolves it."""
    default = Path(app.outdir).parent / ".jupyter_cache"  # myst-nb's default
    return Path(config.nb_execution_cache_path or default).resolve()


def _check(app: Sphinx, config: Config) -> None:
    folder, digest = cache_folder(app, config), watched_digest(Path(app.srcdir))
    stamp = folder / STAMP_NAME
    stale = not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != digest
    app._labcode_cache = {"folder": folder, "digest": digest, "stale": stale}
    LOGGER.info(
        "[labcode_cache] labcode %s (%s)",
        "changed or first build: clearing the execution cache" if stale else "unchanged",
        digest[:12],
    )
    if stale:
        shutil.rmtree(folder, ignore_errors=True)


def _outdated(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    if app._labcode_cache["stale"]:  # every page re-read, so that myst-nb re-executes it
        return sorted(set(env.found_docs) - set(added) - set(removed))
    # A page that glues another page's values ({glue:text}`page.md::key`) is re-read with
    # any other page: Sphinx would rewrite it only when its own text changed.
    return sorted(
        doc
        for doc in env.found_docs - set(added) - set(changed) - set(removed)
        if (added or changed)
        and CROSS_PAGE_GLUE.search(Path(env.doc2path(doc)).read_text(encoding="utf-8"))
    )


def _stamp(app: Sphinx, exception: Exception | None) -> None:
    state = app._labcode_cache  # set at config-inited, by _check
    if exception is None:
        state["folder"].mkdir(parents=True, exist_ok=True)
        (state["folder"] / STAMP_NAME).write_text(state["digest"] + "\n", encoding="utf-8")


def setup(app: Sphinx) -> dict:
    # Run after myst-nb has registered nb_execution_cache_path (it is loaded earlier).
    app.connect("config-inited", _check, priority=900)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _stamp)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
