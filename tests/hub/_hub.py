"""A real JupyterHub on 127.0.0.1 for the hub suite (tests/hub) and benchmarks/hub_load.py.

What a class gets from jupyterhub/config.yaml, on one machine: JupyterHub with its dummy
authenticator (any student name, one shared password), local processes for the students'
servers (JupyterLab and nbgitpuller from binder/requirements.txt, in their own environment)
and configurable-http-proxy in front. The notebooks branch is a local bare repository that
`.ci/publish-notebooks` publishes to; git on the students' servers reads the launch links'
repository URL (the book's own, from _config.yml) as that repository (`url.<path>.insteadOf`),
so a launch link is exactly the one the site prints.

Every process started here is found again and stopped: the hub runs in its own process group,
and each student's server carries this run's id in its environment, so `Hub.stop()` ends the
servers and kernels even when the hub itself died first.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import psutil
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("HUB_VENV", REPO / "_build" / "tools" / "hub"))
CHP = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
PUBLISH = REPO / ".ci" / "publish-notebooks"
NOTEBOOKS = REPO / "_build" / "html" / "_sources" / "book"
PASSWORD = "week03-hub-tests"
RUN_ENV = "WEEK03_HUB_TEST_RUN"  # marks every student server (and its kernels) of a run


def book_config() -> dict:
    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


def repository_url() -> str:
    """The book's repository, as the launch links name it (never hard-coded)."""
    return book_config()["repository"]["url"]


def notebooks_branch() -> str:
    return book_config()["sphinx"]["config"]["course_notebooks_branch"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------
# The environment: the hub and the students' servers (binder/requirements.txt + the hub)
# ------------------------------------------------------------------------------------------
def _requirements_key() -> str:
    h = hashlib.sha256()
    for path in (HERE / "requirements.txt", REPO / "binder" / "requirements.txt", REPO / "pyproject.toml"):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def ensure_venv(log=print) -> Path:
    """The hub's environment in _build/tools/hub, created (or re-created when its requirements
    changed) with pip from tests/hub/requirements.txt, then labcode as binder/postBuild
    installs it."""
    stamp = VENV / "installed-from"
    key = _requirements_key()
    if stamp.is_file() and stamp.read_text() == key and (VENV / "bin" / "jupyterhub").exists():
        return VENV
    log(f"creating the hub environment in {VENV} (tests/hub/requirements.txt)")
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--retries", "1"]
    subprocess.run(pip + ["-r", str(HERE / "requirements.txt")], check=True, cwd=HERE)
    subprocess.run(pip + ["--no-deps", "-e", str(REPO)], check=True)
    stamp.write_text(key)
    return VENV


# ------------------------------------------------------------------------------------------
# The notebooks branch: a local bare repository, published to by .ci/publish-notebooks
# ------------------------------------------------------------------------------------------
def publish(remote: Path, branch: str, source_root: Path = REPO) -> str:
    """Run the course's publishing step, `.ci/publish-notebooks REMOTE BRANCH`, as the deploy
    workflow does; returns the branch's new commit. `source_root`: a checkout with a built
    book (see `scratch_checkout`)."""
    if not PUBLISH.is_file():
        raise FileNotFoundError(f"{PUBLISH} is missing: the publishing step the deploy workflow runs")
    run = subprocess.run(["bash", str(source_root / ".ci" / "publish-notebooks"), str(remote), branch],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise RuntimeError(f"publish-notebooks failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    return subprocess.run(["git", "--git-dir", str(remote), "rev-parse", branch],
                          capture_output=True, text=True, check=True).stdout.strip()


def scratch_checkout(dest: Path) -> Path:
    """A copy of the repository's files with this build's students' notebooks, to change as
    the course would before publishing again. Its .ci/publish-notebooks is a link to the
    repository's own, so the step that runs is the deploy workflow's, not a copy."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (REPO / name).is_file() and not name.startswith(("tests/", ".ci/")):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    built = dest / NOTEBOOKS.relative_to(REPO)
    built.mkdir(parents=True)
    for nb in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy2(nb, built / nb.name)
    (dest / ".ci").mkdir(exist_ok=True)
    (dest / ".ci" / "publish-notebooks").symlink_to(PUBLISH)
    return dest


def bare_remote(path: Path) -> Path:
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return path


# ------------------------------------------------------------------------------------------
# The hub
# ------------------------------------------------------------------------------------------
@dataclass
class Student:
    name: str
    session: requests.Session


class Hub:
    """JupyterHub + configurable-http-proxy + local student servers, all on 127.0.0.1."""

    def __init__(self, workdir: Path, remote: Path, venv: Path = VENV, port: int | None = None):
        self.workdir, self.remote, self.venv = workdir, remote, venv
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.run_id = secrets.token_hex(8)
        self.token = secrets.token_hex(24)
        self.homes = workdir / "homes"
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / "jupyterhub.log"
        self._known: dict[int, psutil.Process] = {}

    # -- configuration ----------------------------------------------------------------------
    def _write_config(self) -> Path:
        self.homes.mkdir(parents=True, exist_ok=True)
        gitconfig = self.workdir / "gitconfig"
        # the launch links' repository is, on this machine, the local notebooks repository
        gitconfig.write_text(f'[url "file://{self.remote}"]\n\tinsteadOf = {repository_url()}\n'
                             "[user]\n\tname = student\n\temail = student@127.0.0.1\n")
        lab_settings = self.workdir / "lab-settings"
        tracker = lab_settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True, exist_ok=True)
        tracker.write_text(json.dumps({"windowingMode": "none"}))  # every cell in the page
        environment = {RUN_ENV: self.run_id, "GIT_CONFIG_GLOBAL": str(gitconfig),
                       "GIT_CONFIG_NOSYSTEM": "1", "JUPYTERLAB_SETTINGS_DIR": str(lab_settings),
                       "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        config = {
            "JupyterHub": {
                "bind_url": self.url, "hub_ip": "127.0.0.1", "hub_port": free_port(),
                "authenticator_class": "dummy", "spawner_class": "simple",
                "db_url": f"sqlite:///{self.workdir / 'jupyterhub.sqlite'}",
                "cookie_secret_file": str(self.workdir / "jupyterhub_cookie_secret"),
                "services": [{"name": "tester", "api_token": self.token}],
                "load_roles": [{"name": "tester", "scopes": ["admin:users", "admin:servers",
                                                             "access:servers", "read:users"],
                                "services": ["tester"]}],
                "cleanup_servers": True, "cleanup_proxy": True,
            },
            "ConfigurableHTTPProxy": {"command": [str(CHP)], "api_url": f"http://127.0.0.1:{free_port()}"},
            "DummyAuthenticator": {"password": PASSWORD},
            "Authenticator": {"allow_all": True},
            "SimpleLocalProcessSpawner": {"home_dir_template": str(self.homes / "{username}")},
            "Spawner": {
                "cmd": [str(self.venv / "bin" / "jupyterhub-singleuser")],
                "args": ["--allow-root", "--LabApp.news_url=", "--ServerApp.ip=127.0.0.1"],
                "default_url": "/lab", "environment": environment,
                "start_timeout": 180, "http_timeout": 180,
            },
        }
        path = self.workdir / "jupyterhub_config.py"
        path.write_text("c = get_config()  # noqa: F821\n" + "".join(
            f"c.{section}.{key} = {value!r}\n" for section, values in config.items()
            for key, value in values.items()))
        return path

    # -- start and stop ---------------------------------------------------------------------
    def start(self, timeout: float = 90) -> Hub:
        if not CHP.exists():
            raise FileNotFoundError(f"{CHP} is missing: run `npm ci --prefix {HERE.relative_to(REPO)}`")
        config = self._write_config()
        env = {**os.environ, "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        env.pop("VIRTUAL_ENV", None)
        env.pop("PYTHONPATH", None)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(self.venv / "bin" / "jupyterhub"), "-f", str(config)],
                                     cwd=self.workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"the hub did not answer within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def processes(self) -> list[psutil.Process]:
        """The hub, its proxy, and every student server and kernel of this run."""
        found: dict[int, psutil.Process] = {}
        if self.proc is not None:
            try:
                hub = psutil.Process(self.proc.pid)
                found[hub.pid] = hub
                for child in hub.children(recursive=True):
                    found[child.pid] = child
            except psutil.NoSuchProcess:
                pass
        for p in psutil.process_iter(["pid"]):
            try:
                if p.environ().get(RUN_ENV) == self.run_id:
                    found[p.pid] = p
                    for child in p.children(recursive=True):
                        found[child.pid] = child
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        self._known.update(found)
        return list(found.values())

    def stop(self) -> None:
        """Stop the hub (it stops the servers and the proxy), then anything of this run left."""
        if self.proc is None:
            return
        self.processes()  # remember them all before the hub goes
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        self.processes()
        for p in list(self._known.values()):
            try:
                p.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(list(self._known.values()), timeout=10)
        for p in alive:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(timeout=10)
        self.log.close()
        self.proc = None

    def leftovers(self) -> list[str]:
        """Any process this run started that is still alive (after `stop`, none)."""
        alive = []
        for p in self._known.values():
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                continue
        return alive

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    # -- the REST API (the tester service's token) --------------------------------------------
    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=kw.pop("timeout", 30), **kw)

    # -- a student, as a browser or plain HTTP client does it --------------------------------
    def launch_link(self, urlpath: str, branch: str | None = None, repo: str | None = None) -> str:
        """The link the site's JupyterHub launch button makes (book/_ext/student_notebooks.py)."""
        query = urlencode({"repo": repo or repository_url(), "urlpath": urlpath,
                           "branch": branch or notebooks_branch()})
        return f"{self.url}/hub/user-redirect/git-pull?{query}"

    def login(self, name: str) -> Student:
        s = requests.Session()
        r = s.get(f"{self.url}/hub/login", timeout=30)
        r.raise_for_status()
        xsrf = s.cookies.get("_xsrf", path="/hub/")
        r = s.post(f"{self.url}/hub/login?next=", data={"username": name, "password": PASSWORD, "_xsrf": xsrf},
                   allow_redirects=False, timeout=60)
        if r.status_code != 302:
            raise RuntimeError(f"login of {name}: HTTP {r.status_code}: {r.text[:500]}")
        return Student(name, s)


def _events(response: requests.Response):
    """The JSON events of a text/event-stream response, as they arrive."""
    for line in response.iter_lines(decode_unicode=True):
        if line and line.startswith("data:"):
            yield json.loads(line[len("data:"):])


@dataclass
class Launch:
    """What following one launch link took, as a student's browser follows it."""
    name: str
    spawn_s: float = 0.0  # from the click to the server ready (0 when it was running)
    pull_s: float = 0.0  # nbgitpuller's clone or merge
    total_s: float = 0.0  # from the click to JupyterLab's page for the notebook
    pull_events: list = None
    lab_status: int = 0
    kernel_s: float = 0.0  # the notebook's kernel started, as JupyterLab opens it


def launch(hub: Hub, student: Student, link: str, timeout: float = 240) -> Launch:
    """Follow a launch link with plain HTTP: the hub's redirects, the spawn (its progress
    stream, as the spawn-pending page reads it), nbgitpuller's page and its event stream
    (what the page's script reads), then JupyterLab at the link's urlpath."""
    s, result, t0 = student.session, Launch(student.name), time.monotonic()
    r = s.get(link, timeout=timeout)
    r.raise_for_status()
    if "/hub/spawn-pending/" in urlsplit(r.url).path:
        progress = s.get(f"{hub.url}/hub/api/users/{student.name}/server/progress", stream=True,
                         timeout=timeout, headers={"Accept": "text/event-stream"})
        progress.raise_for_status()
        events = list(_events(progress))
        if not (events and events[-1].get("ready")):
            raise RuntimeError(f"{student.name}: the spawn did not finish: {events[-3:]}")
        result.spawn_s = time.monotonic() - t0
        next_url = dict(parse_qsl(urlsplit(r.url).query))["next"]
        r = s.get(urljoin(hub.url, next_url), timeout=timeout)
        r.raise_for_status()
    path = urlsplit(r.url).path
    if not path.endswith("/git-pull"):
        raise RuntimeError(f"{student.name}: the link ended at {r.url} (HTTP {r.status_code}), "
                           "not nbgitpuller's page")
    query = dict(parse_qsl(urlsplit(r.url).query))
    t1 = time.monotonic()
    api = {k: v for k, v in query.items() if k in ("repo", "branch", "depth", "targetpath")}
    stream = s.get(urljoin(r.url, "git-pull/api"), params=api, stream=True, timeout=timeout)
    stream.raise_for_status()
    result.pull_events = list(_events(stream))
    result.pull_s = time.monotonic() - t1
    if not result.pull_events or result.pull_events[-1].get("phase") != "finished":
        raise RuntimeError(f"{student.name}: the pull did not finish: {result.pull_events[-2:]}")
    lab = s.get(urljoin(f"{hub.url}/user/{student.name}/", query["urlpath"]), timeout=timeout)
    result.lab_status = lab.status_code
    result.total_s = time.monotonic() - t0
    return result


def xsrf_header(student: Student) -> dict:
    """The header JupyterLab sends with a request that changes something on the server."""
    token = next((c.value for c in student.session.cookies
                  if c.name == "_xsrf" and f"/user/{student.name}/" in (c.path or "") + "/"), None)
    return {"X-XSRFToken": token} if token else {}


def open_notebook(hub: Hub, student: Student, path: str) -> float:
    """Start the notebook's kernel as JupyterLab does when it opens one; returns seconds."""
    t0 = time.monotonic()
    r = student.session.post(f"{hub.url}/user/{student.name}/api/sessions", headers=xsrf_header(student),
                             json={"path": path, "type": "notebook", "name": Path(path).name,
                                   "kernel": {"name": "python3"}}, timeout=120)
    if r.status_code != 201:
        raise RuntimeError(f"{student.name}: opening {path}: HTTP {r.status_code} {r.text[:300]}")
    return time.monotonic() - t0


@dataclass
class Rush:
    launches: list
    failures: list
    wall_s: float


def rush(hub: Hub, names: list[str], urlpath: str) -> Rush:
    """Every student logs in and follows the same launch link at the same moment (a barrier
    releases them together), then opens the notebook. Nothing is retried: any failed request
    is a failure."""
    barrier = threading.Barrier(len(names))
    link = hub.launch_link(urlpath)
    notebook = urlpath.split("/tree/", 1)[1]

    def one(name: str) -> Launch:
        barrier.wait(timeout=120)
        student = hub.login(name)
        result = launch(hub, student, link)
        result.kernel_s = open_notebook(hub, student, notebook)
        return result

    t0 = time.monotonic()
    launches, failures = [], []
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        for name, future in [(n, pool.submit(one, n)) for n in names]:
            try:
                launches.append(future.result(timeout=600))
            except Exception as exc:  # reported, not raised: every student's outcome counts
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
    return Rush(launches, failures, time.monotonic() - t0)


def _mib(p: psutil.Process) -> tuple[float, float]:
    info = p.memory_full_info()
    return info.rss / 2**20, getattr(info, "pss", info.rss) / 2**20


def memory(hub: Hub) -> dict:
    """Resident (RSS) and proportional (PSS: shared pages split between the processes that
    share them) memory in MiB: the hub, its proxy, and each student's server and kernels."""
    hub_process = psutil.Process(hub.proc.pid)
    out = {"hub": _mib(hub_process), "proxy": (0.0, 0.0), "students": {}}
    for child in hub_process.children():
        try:
            user = child.environ().get("JUPYTERHUB_USER")
            if user is None:
                if "configurable-http-proxy" in " ".join(child.cmdline()):
                    out["proxy"] = _mib(child)
                continue
            kernels = [_mib(k) for k in child.children(recursive=True)]
            cpu = child.cpu_times()
            out["students"][user] = {"server": _mib(child), "kernels": kernels,
                                     "server_cpu_s": cpu.user + cpu.system}
        except psutil.NoSuchProcess:
            continue
    return out


if __name__ == "__main__":  # .ci/run: `python tests/hub/_hub.py` creates the hub's environment
    print(ensure_venv())
