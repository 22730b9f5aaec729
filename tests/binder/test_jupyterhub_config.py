"""The course's own JupyterHub: jupyterhub/config.yaml (Zero to JupyterHub values).

What can be checked without a cluster: the values are the ones the chart reads, the image
is the Binder image with what the launch links need in it, the sizing is consistent, and
the hub opens JupyterLab as the launch buttons expect.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "jupyterhub" / "config.yaml").read_text(encoding="utf-8"))


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([KMG])i?", quantity).groups()
    return float(number) * {"K": 1 / 1024, "M": 1, "G": 1024}[unit]


def test_the_hub_runs_the_binder_image_with_nbgitpuller_in_it():
    image = CONFIG["singleuser"]["image"]
    assert image["name"] and image["tag"] and image["tag"] != "latest"
    binder = (REPO / "binder" / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^nbgitpuller\b", binder, re.M), "the hub's launch links need nbgitpuller in the image"


def test_it_opens_jupyterlab_like_the_launch_buttons():
    launch = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["launch_buttons"]
    assert launch["notebook_interface"] == "jupyterlab" and CONFIG["singleuser"]["defaultUrl"] == "/lab"


def test_the_sizing_is_consistent():
    memory, cpu = CONFIG["singleuser"]["memory"], CONFIG["singleuser"]["cpu"]
    assert 0 < mebibytes(memory["guarantee"]) <= mebibytes(memory["limit"])
    assert 0 < cpu["guarantee"] <= cpu["limit"]
    # the measured session peak quoted in the file's header is inside the guarantee
    peak = float(re.search(r"peaks at about (\d+) MiB", (REPO / "jupyterhub" / "config.yaml").read_text()).group(1))
    assert peak < mebibytes(memory["guarantee"])


def test_idle_servers_are_culled_and_the_image_is_pre_pulled():
    assert CONFIG["cull"]["enabled"] and CONFIG["cull"]["timeout"] > 0
    assert CONFIG["prePuller"]["hook"]["enabled"] and CONFIG["prePuller"]["continuous"]["enabled"]


def test_a_fork_fills_in_its_login_and_address_and_builds_its_own_image():
    """Nothing in the file is the original's: the image command reads the repository from
    _config.yml, and login and HTTPS are sections to fill in."""
    text = (REPO / "jupyterhub" / "config.yaml").read_text(encoding="utf-8")
    original = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))["repository-code"]
    assert original.split("github.com/")[1] not in text
    assert 'yaml.safe_load(open("_config.yml"))["repository"]["url"]' in text
    assert CONFIG["hub"]["config"]["JupyterHub"]["authenticator_class"]
    assert CONFIG["proxy"]["https"]["enabled"] and CONFIG["proxy"]["https"]["hosts"]
