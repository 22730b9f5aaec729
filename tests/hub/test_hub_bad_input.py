"""Bad launch links and students who are not logged in (`pytest -m hub`).

A link with a branch or repository that does not exist must end on nbgitpuller's error page
(its "Proceed without syncing" box) within seconds, in the student's browser, not spin
forever. A student who is not logged in is sent to the hub's login page, and after logging in
lands where the link pointed.
"""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import _hub

pytestmark = [pytest.mark.hub, pytest.mark.timeout(300)]

STUDENT = "student-typo"
ERROR_SHOWN_WITHIN_S = 20  # from nbgitpuller's page loading to its error box


@pytest.fixture(scope="module")
def tab(browser, hub):
    """A logged-in student whose server is running, in Chromium."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", STUDENT)
        page.fill("#password_input", _hub.PASSWORD)
        page.click("#login_submit")
        page.wait_for_url(re.compile(rf"/user/{STUDENT}/lab"), timeout=240_000)
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("wrong", ["branch", "repository"])
def test_a_wrong_link_gets_nbgitpullers_error_page_in_seconds(tab, hub, notebooks_remote, wrong):
    repo_name = _hub.repository_url().rstrip("/").split("/")[-1]
    urlpath = f"lab/tree/{repo_name}/book/starter.ipynb"
    link = (hub.launch_link(urlpath, branch="no-such-branch") if wrong == "branch" else
            hub.launch_link(urlpath, repo=f"{notebooks_remote}-no-such-repository"))
    tab.goto(link)
    tab.wait_for_url(re.compile(rf"/user/{STUDENT}/git-pull\?"), timeout=60_000)
    t0 = time.monotonic()
    box = tab.locator("#container-error")
    box.wait_for(state="visible", timeout=ERROR_SHOWN_WITHIN_S * 1000)
    shown_after = time.monotonic() - t0
    assert "/git-pull" in tab.url, f"the wrong link went on to {tab.url}"
    assert box.get_by_role("button", name=re.compile("without synchroni[sz]ing")).count() + \
        box.get_by_text("Proceed without syncing").count() >= 1, box.inner_text()
    print(f"wrong {wrong}: nbgitpuller's error shown {shown_after:.1f} s after its page loaded")
    folder = hub.homes / STUDENT / (repo_name if wrong == "branch" else f"{notebooks_remote.name}-no-such-repository")
    assert not folder.exists(), "a wrong link left a folder behind"


def test_a_student_not_logged_in_is_sent_to_the_login_page_and_then_on(hub):
    repo_name = _hub.repository_url().rstrip("/").split("/")[-1]
    link = hub.launch_link(f"lab/tree/{repo_name}/book/starter.ipynb")
    session = requests.Session()
    r = session.get(link, timeout=30)
    assert r.status_code == 200 and urlsplit(r.url).path == "/hub/login", r.url
    assert 'id="username_input"' in r.text and 'id="password_input"' in r.text
    next_url = parse_qs(urlsplit(r.url).query)["next"][0]
    assert next_url == link[len(hub.url):], "the login page forgets where the link pointed"
    # Logging in there goes on to the link: the server starts for the notebook it names.
    xsrf = session.cookies.get("_xsrf", path="/hub/")
    r = session.post(r.url, data={"username": "student-late", "password": _hub.PASSWORD, "_xsrf": xsrf}, timeout=60)
    assert urlsplit(r.url).path == "/hub/spawn-pending/student-late", r.url
    assert parse_qs(urlsplit(r.url).query)["next"][0].startswith("/user/student-late/git-pull?")
    hub.api("DELETE", "/users/student-late/server", timeout=60)
