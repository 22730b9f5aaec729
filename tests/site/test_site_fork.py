"""An instructor's fork, followed from the README on a scratch copy (`pytest -m site`).

"Adapting the week for your class" in README.md says to change two lines of _config.yml,
the title and the repository URL, and to add one, the course's JupyterHub, to send every
launch there. This does exactly that on a copy of the repository (the
files git tracks or would track), reuses this build's execution cache (labcode is the same,
so no page runs again), builds with warnings as errors, and reads the fork's site: it has
the new title and address, and still credits the original as CC BY 4.0 asks.
"""
from __future__ import annotations

import re
import shutil
from urllib.parse import parse_qs, urlsplit
import subprocess
import sys
from pathlib import Path

import pytest

import _sitetools as st

pytestmark = [pytest.mark.site, pytest.mark.timeout(900)]

REPO = st.REPO_ROOT
FORK_TITLE = "Week 3 · MLPs for Physicists"
FORK_URL = "https://github.com/physics-dept/mlp-week"
FORK_HUB = "https://hub.physics.example.edu"


@pytest.fixture(scope="module")
def fork(tmp_path_factory, built_site) -> Path:
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
    # The README's two edits, as an instructor makes them.
    config = (root / "_config.yml").read_text(encoding="utf-8")
    config, n_title = re.subn(r'^title: .*$', f'title: "{FORK_TITLE}"', config, flags=re.M)
    config, n_url = re.subn(r"^(  url: )https://github\.com/\S+$", rf"\g<1>{FORK_URL}", config, flags=re.M)
    config, n_hub = re.subn(r"^(launch_buttons:\n)", rf"\g<1>  jupyterhub_url: {FORK_HUB}\n", config, flags=re.M)
    assert (n_title, n_url, n_hub) == (1, 1, 1), "the README's lines are not in _config.yml as it says"
    (root / "_config.yml").write_text(config, encoding="utf-8")
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(root),
                            "-W", "-n", "--keep-going"], capture_output=True, text=True, timeout=840)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-2000:]
    return root / "_build" / "html"


def test_the_fork_has_its_own_title_and_address(fork):
    lab = (fork / "book" / "lab.html").read_text(encoding="utf-8")
    assert "MLPs for Physicists" in lab
    assert '<link rel="canonical" href="https://physics-dept.github.io/mlp-week/book/lab.html"' in lab
    assert "github.com/physics-dept/mlp-week" in lab  # repository and launch buttons
    # the original's address is left only where the fork credits it
    credit = re.sub(r'<p class="course-license">.*?</p>', "", lab, flags=re.S)
    assert "deep-learning-course" not in credit


def test_the_fork_still_credits_the_original(fork):
    for page in ("book/index.html", "book/lesson.html", "book/lab.html"):
        html = (fork / page).read_text(encoding="utf-8")
        footer = re.search(r'<p class="course-license">(.*?)</p>', html, re.S)
        assert footer, f"{page}: no license footer"
        text = re.sub(r"<[^>]+>", "", footer.group(1))
        assert text.startswith("Adapted from “Week 3 · MLPs &amp; Backpropagation"), text
        assert "by The Deep Learning course team" in text and "CC BY 4.0" in text
    index = re.sub(r"<[^>]+>", "", (fork / "book" / "index.html").read_text(encoding="utf-8"))
    assert "@misc{team2026week3" in index and "github.com/deep-learning-course/week03-mlps-backprop" in index
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
    for nb in pages:
        html = (fork / "book" / f"{nb.stem}.html").read_text(encoding="utf-8")
        links = _launch_links(html)
        hub = urlsplit(links.get("JupyterHub", ""))
        assert f"{hub.scheme}://{hub.netloc}" == FORK_HUB, (nb.stem, links)
        assert hub.path == "/hub/user-redirect/git-pull"
        query = {k: v[0] for k, v in parse_qs(hub.query).items()}
        assert query["repo"] == FORK_URL and query["branch"] == "notebooks"
        assert query["urlpath"] == f"lab/tree/mlp-week/book/{nb.stem}.ipynb", query
        assert "mybinder.org/v2/gh/physics-dept/mlp-week/notebooks" in links.get("Binder", "")
