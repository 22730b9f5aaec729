"""How fast the pages are on a phone: Lighthouse's mobile performance, beside a stock book.

Serves the built site (``_build/html``) gzipped on loopback, as GitHub Pages serves it,
and runs Lighthouse 12.2.3 (npm; 13 needs Node 22) with its default mobile settings
(simulated slow 4G, 4x CPU slowdown) on every page of ``_toc.yml``, in Debian's Chromium
(``CHROME_PATH=/usr/bin/chromium``). In the same run it builds the stock book that
``jupyter-book create`` makes and measures its pages too, so the two rows share a machine.
Lighthouse's score moves between runs on a busy machine (whether a font arrives before
the first paint decides which requests its simulation counts), so each page is measured
``RUNS`` times: the table gives the median score (and the lowest), the median total
blocking time, largest contentful paint and cumulative layout shift, and the bytes
transferred.

Run: ``python benchmarks/site_speed.py`` from the repository root, after the build (a few
minutes; the first run installs Lighthouse into ``_build/tools/lighthouse``).
"""
from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from sphinx_external_toc.parsing import parse_toc_yaml

REPO = Path(__file__).resolve().parents[1]
LIGHTHOUSE = "12.2.3"
TOOLS = REPO / "_build" / "tools" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
RUNS = 3


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzipped when the browser accepts it (as GitHub Pages does)."""

    def log_message(self, *args) -> None:
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file() or "gzip" not in self.headers.get("Accept-Encoding", ""):
            return super().send_head()
        body = gzip.compress(path.read_bytes())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        self.wfile.write(body)
        return None


def serve(root: Path) -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(GzipHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def lighthouse(url: str) -> dict:
    binary = TOOLS / "node_modules" / ".bin" / "lighthouse"
    if not binary.is_file():
        subprocess.run(["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund",
                        "--loglevel=error", f"lighthouse@{LIGHTHOUSE}"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        subprocess.run([str(binary), url, "--only-categories=performance", "--output=json",
                        f"--output-path={out}", "--quiet", "--chrome-flags=--headless=new --no-sandbox"],
                       env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True, timeout=300)
        report = json.loads(out.read_text())
    audits = report["audits"]
    return {"score": round(100 * report["categories"]["performance"]["score"]),
            "tbt_ms": audits["total-blocking-time"]["numericValue"],
            "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
            "cls": audits["cumulative-layout-shift"]["numericValue"],
            "kib": audits["total-byte-weight"]["numericValue"] / 1024}


def stock_book(tmp: Path) -> Path:
    """The book ``jupyter-book create`` makes, built: the baseline."""
    jb = Path(sys.executable).parent / "jupyter-book"
    subprocess.run([str(jb), "create", str(tmp / "stock")], check=True, capture_output=True)
    subprocess.run([str(jb), "build", str(tmp / "stock")], check=True, capture_output=True)
    return tmp / "stock" / "_build" / "html"


def main() -> None:
    site = REPO / "_build" / "html"
    if not site.is_dir():
        sys.exit("build the book first (README command 1)")
    pages = list(parse_toc_yaml(REPO / "_toc.yml").keys())
    with tempfile.TemporaryDirectory() as tmp:
        stock = stock_book(Path(tmp))
        ours, theirs = serve(site), serve(stock)
        urls = [(p, f"{ours}/{p}.html") for p in pages] + [
            ("stock book: intro", f"{theirs}/intro.html"),
            ("stock book: markdown-notebooks", f"{theirs}/markdown-notebooks.html")]
        rows = [(name, [lighthouse(url) for _ in range(RUNS)]) for name, url in urls]
    print(f"Lighthouse {LIGHTHOUSE}, mobile preset, Chromium at {CHROMIUM}, gzip on loopback\n")
    print(f"| page | performance, median (lowest) of {RUNS} | total blocking time | "
          "largest contentful paint | layout shift | transferred |")
    print("|---|---|---|---|---|---|")
    for page, runs in rows:
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        low = min(r["score"] for r in runs)
        print(f"| {page} | {med['score']:.0f} ({low}) | {med['tbt_ms']:.0f} ms | {med['lcp_s']:.1f} s | "
              f"{med['cls']:.3f} | {med['kib']:.0f} KiB |")


if __name__ == "__main__":
    main()
