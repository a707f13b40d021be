"""The run report opened in a real headless Chromium: every plot loads and shows, offline.

A run directory is made by hand (scored base and trained trajectories, a training log, stage
timings), ``write_run_report`` writes the real report, and Chromium renders it twice:

1. a probe copy of ``index.html`` with one script appended, which records after ``load``
   every ``<img>``'s ``naturalWidth`` and on-page box, every resource the page fetched, and
   the page height; ``--dump-dom`` hands that back. The script only sets an attribute, so the
   probe's layout is the report's.
2. the report itself, unmodified, as a screenshot of the whole page; inside each plot's box
   we count pixels of matplotlib's line colours (a blank or broken image has none).

Chromium runs as root in a container here: ``--no-sandbox`` (its own sandbox needs user
namespaces it may not get), no GPU, no /dev/shm reliance, and nothing that phones home.
The browser test skips only when no Chromium binary exists (``scripts/setup.sh`` installs one).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cobalt_rl.evaluate import compute_metrics
from cobalt_rl.records import (
    Attempt,
    ExecResult,
    Message,
    Problem,
    Status,
    TestCase,
    TestOutcome,
    Trajectory,
    write_jsonl,
)
from cobalt_rl.report.metrics import write_report
from cobalt_rl.report.run import write_run_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CHROME = next((p for b in BROWSERS if (p := shutil.which(b))), None)

needs_chromium = pytest.mark.skipif(
    CHROME is None,
    reason="no Chromium binary on PATH (scripts/setup.sh installs the Debian package "
    "`chromium` when run as root; or: apt-get install chromium)",
)

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    # Nothing leaves the machine even if the page asked: every host resolves nowhere.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
]
WIDTH = 1200
TIMEOUT_S = 90

# Matplotlib's default cycle: C0 (blue) draws every training curve and the first Pass@1 run,
# C1 (orange) the second run.
PLOT_COLOURS = [(0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)]

PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images].map((im) => {
    const r = im.getBoundingClientRect();
    return {alt: im.alt, complete: im.complete, naturalWidth: im.naturalWidth,
            naturalHeight: im.naturalHeight,
            box: [r.left + scrollX, r.top + scrollY, r.width, r.height]};
  });
  const fetched = performance.getEntriesByType("resource").map((e) => e.name);
  const height = document.documentElement.scrollHeight;
  const tables = [...document.querySelectorAll("table")].map((t) => {
    const r = t.getBoundingClientRect();
    return {rows: t.rows.length, cells: t.querySelectorAll("td").length,
            width: r.width, height: r.height};
  });
  const headline = document.querySelector(".headline");
  const headlineTop = headline ? headline.getBoundingClientRect().top + scrollY : null;
  const firstSection = document.querySelector("h2").getBoundingClientRect().top + scrollY;
  const cut = [...document.querySelectorAll(".cut")].map((c) => c.textContent);
  document.documentElement.setAttribute("data-probe",
      JSON.stringify({imgs, fetched, height, tables, headlineTop, firstSection, cut}));
});
</script>"""


def _result(*passed: bool) -> ExecResult:
    return ExecResult(
        outcomes=[TestOutcome(status=Status.PASSED if p else Status.WRONG_ANSWER) for p in passed]
    )


CUT_REPLY = "```python\nfor i in range(10):\n    print("  # ends mid-statement at the cap


def _trajectory(pid: str, sample: int, hidden: list[bool], cut: str | None = None) -> Trajectory:
    """``cut``: the first reply hit the token cap, as the generator's finish reason says
    ("length"), or in a record from before finish reasons were kept ("legacy": an open
    code block is all there is to tell)."""
    attempts = [
        Attempt(turn=i + 1, response="```python\nprint(1)\n```", code="print(1)",
                public=_result(ok), hidden=_result(ok, ok))
        for i, ok in enumerate(hidden)
    ]  # fmt: skip
    if cut is not None:
        reason = "length" if cut == "length" else None
        attempts[0] = attempts[0].model_copy(
            update={"response": CUT_REPLY, "finish_reason": reason}
        )
    messages = [Message(role="system", content="rules"), Message(role="user", content="q")]
    for a in attempts:
        messages += [
            Message(role="assistant", content=a.response),
            Message(role="user", content="Input: 1\nExpected Output: 2"),
        ]
    return Trajectory(problem_id=pid, sample=sample, messages=messages, attempts=attempts)


def make_run(run: Path) -> None:
    """A finished run's files as the pipeline leaves them (no model, no sandbox)."""
    problems = {
        f"p{i}": Problem(
            id=f"p{i}",
            source="t",
            statement="s",
            mode="stdin",
            difficulty="easy",
            public_tests=[TestCase(input="1", output="1")],
            hidden_tests=[TestCase(input="2", output="2")],
        )
        for i in range(3)
    }
    # Base: solves p0 from turn 2 on; trained: p0 from turn 1, p1 from turn 3.
    runs = {
        "base": [_trajectory("p0", 0, [False, True, True]), _trajectory("p1", 0, [False] * 3),
                 _trajectory("p2", 0, [False] * 3)],
        "trained": [_trajectory("p0", 0, [True] * 3),
                    _trajectory("p1", 0, [False, False, True], cut="length"),
                    _trajectory("p2", 0, [False] * 3, cut="legacy")],
    }  # fmt: skip
    for label, trajs in runs.items():
        write_jsonl(run / f"eval-{label}.jsonl", trajs)
        write_report(compute_metrics(trajs, problems), run / "report" / label, label=label)
    (run / "train").mkdir()
    (run / "train" / "metrics.jsonl").write_text(
        "".join(
            json.dumps(
                {"step": s, "loss": 0.1 / s, "reward": -0.1 + 0.2 * s, "pass_rate": 0.1 * s,
                 "kl": 1e-3 * s, "completions/mean_length": 80 + s, "format_failure_rate": 0.0}
            ) + "\n"
            for s in (1, 2, 3)
        )
    )  # fmt: skip
    (run / "stages").mkdir()
    for stage, seconds in (("rollout", 30.0), ("train", 60.0)):
        (run / "stages" / f"{stage}.json").write_text(
            json.dumps({"seconds": seconds, "tokens": 1000})
        )


def chromium(*args: str, cwd: Path) -> str:
    assert CHROME is not None
    cmd = [CHROME, *FLAGS, f"--user-data-dir={cwd / 'profile'}", *args]
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"chromium did not finish within {TIMEOUT_S} s: {' '.join(cmd)}\n{e.stderr}")
    assert done.returncode == 0, f"chromium failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return done.stdout


class _Resources(HTMLParser):
    """Every URL the markup would load: src/href/srcset/poster/data attributes and CSS url()."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value and name in ("src", "href", "srcset", "poster", "data", "action"):
                self.urls.append(value)
            if value and name == "style":
                self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", value)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)
            self.urls += re.findall(r"@import\s+['\"]([^'\"]+)", data)


def plot_pixels(png: Path, box: list[float]) -> int:
    """Pixels inside ``box`` (left, top, width, height) within 40 of a plot colour."""
    import numpy as np
    from PIL import Image

    left, top, width, height = (round(v) for v in box)
    with Image.open(png) as im:
        crop = np.asarray(im.convert("RGB").crop((left, top, left + width, top + height)))
    near = [np.abs(crop.astype(int) - c).sum(axis=-1) < 40 for c in PLOT_COLOURS]
    return int(np.logical_or.reduce(near).sum())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("run")
    make_run(run)
    paths = write_run_report(run)
    return paths["html"]


def test_report_is_self_contained(report: Path) -> None:
    parser = _Resources()
    parser.feed(report.read_text())
    urls = parser.urls
    external = [u for u in urls if not u.startswith(("data:", "#"))]
    assert not external, f"the report loads files or URLs, not readable offline: {external}"
    assert sum(u.startswith("data:image/png;base64,") for u in urls) >= 2


def test_report_reads_like_one(report: Path) -> None:
    page = report.read_text()
    top = page[: page.index("<h2>")]
    # Base solves p0 at turn 3; trained solves p0 and p1: +1/3, paired by problem.
    assert 'class="headline"' in top
    assert "Cobalt-trained vs base at turn 3 (the last): Pass@1 0.333 → 0.667" in top
    assert "paired difference +0.333 (95% interval +0.000 to +1.000)" in top
    assert "3 problems × 1 samples, paired by problem" in top
    assert "The interval includes zero" in top  # [0, 1] with 3 problems: not told apart
    # Real tables, no markdown source left in <pre> blocks.
    assert page.count("<table>") >= 4  # base, trained, public vs hidden, cost
    assert not re.search(r"<pre>[^<]*\|---", page)
    # The cut replies are marked, from the finish reason and (old records) the open block.
    assert "cut at the token cap</span>" in page
    assert "code block left open: likely cut at the token cap</span>" in page
    md = (report.parent / "report.md").read_text()
    assert md.startswith("# cobalt-rl run report\n\n**Cobalt-trained vs base at turn 3")


@needs_chromium
def test_report_renders_its_plots_in_chromium(report: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    page = report.read_text()
    assert "</body>" in page
    probe.write_text(page.replace("</body>", PROBE + "</body>", 1))

    dom = chromium(
        f"--window-size={WIDTH},1000",
        "--virtual-time-budget=10000",
        "--dump-dom",
        probe.as_uri(),
        cwd=tmp_path,
    )
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, f"the probe script did not run; DOM starts: {dom[:500]}"
    data = json.loads(html.unescape(found.group(1)))

    imgs = data["imgs"]
    assert len(imgs) >= 2, imgs  # Pass@1 by turn and the training curves, at least
    for im in imgs:
        assert im["complete"] and im["naturalWidth"] > 0 and im["naturalHeight"] > 0, im
        assert im["box"][2] > 100 and im["box"][3] > 50, f"{im['alt']} is drawn too small: {im}"
    remote = [u for u in data["fetched"] if re.match(r"https?://", u)]
    assert not remote, f"the page fetched from the network: {remote}"
    tables = data["tables"]
    assert len(tables) >= 4, tables
    for table in tables:  # laid out as tables: a header row, data cells, a real box
        assert table["rows"] >= 2 and table["cells"] > 0, table
        assert table["width"] > 200 and table["height"] > 30, table
    assert data["headlineTop"] is not None and data["headlineTop"] < data["firstSection"]
    assert len(data["cut"]) == 2, data["cut"]

    shot = tmp_path / "report.png"
    height = int(data["height"]) + 20
    chromium(
        f"--window-size={WIDTH},{height}",
        "--virtual-time-budget=10000",
        f"--screenshot={shot}",
        report.as_uri(),
        cwd=tmp_path,
    )
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size[0] == WIDTH and im.size[1] >= max(i["box"][1] + i["box"][3] for i in imgs)
    for im in imgs:
        coloured = plot_pixels(shot, im["box"])
        # A line of a few hundred pixels at least; a blank or broken image gives 0.
        assert coloured > 200, f"plot {im['alt']!r} shows no plot colours ({coloured} pixels)"
