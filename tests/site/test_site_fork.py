"""An instructor's fork, made on a scratch copy exactly as README.md says (`pytest -m site`).

"Adapting the week for your class" in README.md lists the lines of _config.yml a fork
changes (title, author, copyright, repository URL, the course's JupyterHub) and how to add
a page from book/_template.md. This does each on a copy of the repository (the files git
tracks or would track), then runs the fork's unit tests (they must hold for a fork, so they
read the book's identity from _config.yml and CITATION.cff, never the original's literals)
and builds it with warnings as errors, reusing this build's execution cache (labcode is the
same, so only the new page runs). The fork's site has its own title, holder, address and
hub, its new page, and still credits the original, as CC BY 4.0 asks.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

import _sitetools as st

pytestmark = [pytest.mark.site, pytest.mark.timeout(900)]

REPO = st.REPO_ROOT
# The fork's identity: an instructor's own, nothing of the original's.
FORK_TITLE = "Week 3 · MLPs for Physicists"
FORK_AUTHOR = "Physics Department Teaching Team"
FORK_COPYRIGHT = f"2031 {FORK_AUTHOR}"
FORK_URL = "https://github.com/physics-dept/mlp-week"
FORK_HUB = "https://hub.physics.example.edu"
NEW_PAGE = "practice"


def original() -> dict:
    """The original work, as CITATION.cff (which a fork keeps) names it."""
    return yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))


def _set(text: str, pattern: str, line: str) -> str:
    """Replace the one line matching `pattern` (a README step names it); fail if it is not
    there exactly once."""
    new, n = re.subn(pattern, line.replace("\\", r"\\"), text, flags=re.M)
    assert n == 1, f"README's line {pattern!r} is in _config.yml {n} times, not once"
    return new


@pytest.fixture(scope="module")
def fork_root(tmp_path_factory, built_site) -> Path:
    root = tmp_path_factory.mktemp("fork") / "repo"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    cache = REPO / "_build" / ".jupyter_cache"
    if cache.is_dir():
        shutil.copytree(cache, root / "_build" / ".jupyter_cache")

    # README, "Adapting the week for your class", steps 1 to 4 in _config.yml.
    config = (root / "_config.yml").read_text(encoding="utf-8")
    config = _set(config, r"^title: .*$", f'title: "{FORK_TITLE}"')
    config = _set(config, r"^author: .*$", f'author: "{FORK_AUTHOR}"')
    config = _set(config, r"^copyright: .*$", f'copyright: "{FORK_COPYRIGHT}"')
    config = _set(config, r"^  url: https://github\.com/\S+$", f"  url: {FORK_URL}")
    # the hub's line is there, commented out or set: the fork sets it (never a second one)
    config = _set(config, r"^  #? ?jupyterhub_url:.*$", f"  jupyterhub_url: {FORK_HUB}")
    (root / "_config.yml").write_text(config, encoding="utf-8")
    # Step 5: a new page from the template, listed in _toc.yml after the last page.
    shutil.copy2(root / "book" / "_template.md", root / "book" / f"{NEW_PAGE}.md")
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    last = list(re.finditer(r"^( *)- file: \S+\n", toc, flags=re.M))[-1]
    toc = toc[:last.end()] + f"{last.group(1)}- file: book/{NEW_PAGE}\n" + toc[last.end():]
    (root / "_toc.yml").write_text(toc, encoding="utf-8")
    # A fork is a git repository (reuse lint, for one, reads .gitignore through git).
    for command in (["init", "--quiet"], ["add", "--all"],
                    ["-c", "user.name=Instructor", "-c", "user.email=instructor@example.org",
                     "commit", "--quiet", "-m", "Adapted for our class, as the README says"]):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    return root


@pytest.fixture(scope="module")
def fork(fork_root) -> Path:
    """The fork built as README command 1 builds it; its _build/html."""
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build",
                            str(fork_root), "-W", "-n", "--keep-going"],
                           capture_output=True, text=True, timeout=840)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-2000:]
    return fork_root / "_build" / "html"


def test_the_forks_unit_tests_pass(fork_root):
    """README command 2's tests on the fork: nothing in them is the original's identity."""
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
                         cwd=fork_root, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-1000:]


def test_the_fork_has_its_own_title_holder_address_and_page(fork):
    lab = (fork / "book" / "lab.html").read_text(encoding="utf-8")
    assert escape(FORK_TITLE, quote=False) in lab
    owner, name = FORK_URL.split("/")[-2:]
    assert f'<link rel="canonical" href="https://{owner}.github.io/{name}/book/lab.html"' in lab
    assert f"github.com/{owner}/{name}" in lab  # repository and launch buttons
    assert FORK_COPYRIGHT in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", lab))
    # the original's repository is left only where the fork credits it
    credit = re.sub(r'<p class="course-license">.*?</p>', "", lab, flags=re.S)
    assert original()["repository-code"].removeprefix("https://") not in credit
    page = (fork / "book" / f"{NEW_PAGE}.html").read_text(encoding="utf-8")
    assert "Practice: the shape of a layer" in page
    assert re.search(r"its norm is\s*<span[^>]*>\d+\.\d{3}</span>", page), \
        "the template's glued number is not on the fork's new page"
    assert (fork / "_sources" / "book" / f"{NEW_PAGE}.ipynb").is_file()


def test_the_fork_still_credits_the_original(fork):
    cff = original()
    authors = " and ".join(a.get("name") or f"{a['given-names']} {a['family-names']}"
                           for a in cff["authors"])
    for page in ("book/index.html", "book/lesson.html", f"book/{NEW_PAGE}.html"):
        html = (fork / page).read_text(encoding="utf-8")
        footer = re.search(r'<p class="course-license">(.*?)</p>', html, re.S)
        assert footer, f"{page}: no license footer"
        assert f'href="{cff["url"]}"' in footer.group(1), f"{page}: the credit does not link the original"
        text = re.sub(r"<[^>]+>", "", footer.group(1))
        assert text.startswith(f"Adapted from “{escape(cff['title'], quote=False)}”"), text
        assert f"by {escape(authors, quote=False)}" in text and "CC BY 4.0" in text
    index = re.sub(r"<[^>]+>", "", (fork / "book" / "index.html").read_text(encoding="utf-8"))
    assert cff["repository-code"] in index  # the landing page's BibTeX cites the original
    assert (fork.parents[1] / "LICENSE").is_file() and (fork.parents[1] / "LICENSES" / "CC-BY-4.0.txt").is_file()


def _launch_links(html: str) -> dict[str, str]:
    """{button text: URL} of the page's launch buttons (the theme's dropdown)."""
    menu = html[html.index('class="dropdown dropdown-launch-buttons"'):]
    menu = menu[:menu.index("</ul>")]
    return {text.strip(): url.replace("&amp;", "&") for url, text in re.findall(
        r'<a href="([^"]+)".*?<span class="btn__text-container">(.*?)</span>', menu, re.S)}


def test_with_a_hub_set_every_executable_page_launches_its_notebook_there(fork):
    """nbgitpuller: the hub pulls the fork's notebooks branch and opens the page's notebook
    in JupyterLab; Binder stays for everyone else."""
    pages = [p for p in sorted((fork / "_sources" / "book").glob("*.ipynb"))]
    assert pages, "no students' notebooks in the fork"
    owner, name = FORK_URL.split("/")[-2:]
    for nb in pages:
        html = (fork / "book" / f"{nb.stem}.html").read_text(encoding="utf-8")
        links = _launch_links(html)
        hub = urlsplit(links.get("JupyterHub", ""))
        assert f"{hub.scheme}://{hub.netloc}" == FORK_HUB, (nb.stem, links)
        assert hub.path == "/hub/user-redirect/git-pull"
        query = {k: v[0] for k, v in parse_qs(hub.query).items()}
        assert query["repo"] == FORK_URL and query["branch"] == "notebooks"
        assert query["urlpath"] == f"lab/tree/{name}/book/{nb.stem}.ipynb", query
        assert f"mybinder.org/v2/gh/{owner}/{name}/notebooks" in links.get("Binder", "")
