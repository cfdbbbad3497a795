"""The self-contained HTML report: the converter on its own, and a real experiment's report.html
opened in headless Chromium (figures drawn, the headline table there and sortable, no console
message, a screenshot); on a 1366 x 768 screen, the answer fits the first screen, the trade-off
table shows every option without scrolling sideways, and every link of the contents leads to its
section."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import tomllib
from html import escape, unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import call_main

from sim import api
from sim.analysis.compare import paired_differences
from sim.analysis.contents import anchor, contents_section
from sim.analysis.html import render_html, write_html
from sim.analysis.report import write_report
from sim.analysis.summary import summarise
from sim.analysis.tables import markdown_text
from sim.replication.outcomes import label

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A 1 x 1 PNG (one white pixel).
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)
OUTCOMES = ["attacks_rocket", "us_killed", "rockets_intercepted"]
SCREEN = (1366, 768)  # the smallest common laptop screen: the answer must lie within its first 768 px of page
POSTERIOR_EXPERIMENT = ROOT / "configs" / "experiments" / "policy_comparison.toml"
CHROMIUM_TIMEOUT_S = 120
# Chromium's log line for a console message or an uncaught error, e.g.
# [123:123:1201/052717.717697:INFO:CONSOLE:1] "message", source: file:///x.html (1)
CONSOLE_LINE = re.compile(r':CONSOLE\b[^\]]*\]\s*"(?P<message>.*)", source: ')


def markdown_folder(tmp_path: Path, text: str, images: dict[str, bytes]) -> Path:
    for name, data in images.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    path = tmp_path / "report.md"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ the converter


def test_tables_become_sortable_wrapped_tables_with_a_header_and_escaped_pipes():
    text = "# T\n\n| outcome | a \\| b |\n|---|---|\n| us_killed | 1.2 [0.5, 2.0] |\n| attacks | – |\n"
    page = render_html(text, Path("."), "report")
    table = page[page.index('<div class="table-wrap"><table class="sortable">') : page.index("</table>")]
    assert "<thead>" in table and "<th>outcome</th>" in table and "<th>a | b</th>" in table
    assert table.count("<tr>") == 3 and "<td>1.2 [0.5, 2.0]</td>" in table
    assert "position: sticky" in page and "nth-child(even)" in page  # the header stays, rows alternate


def test_images_are_inlined_as_data_uris_and_a_missing_one_is_said_to_be(tmp_path):
    path = markdown_folder(
        tmp_path,
        "# R\n\n![ecdf](plots/ecdf_us_killed.png)\n\n![gone](plots/none.png)\n",
        {"plots/ecdf_us_killed.png": PIXEL},
    )
    page = write_html(path).read_text(encoding="utf-8")
    encoded = base64.b64encode(PIXEL).decode("ascii")
    assert f'<img alt="ecdf" src="data:image/png;base64,{encoded}">' in page
    assert '<span class="missing">[figure not found: plots/none.png] gone</span>' in page
    assert "plots/ecdf_us_killed.png" not in page


def test_nothing_is_fetched_from_the_network():
    text = "# R\n\n![remote](https://example.com/x.png)\n\n[bad](javascript:alert(1)) and [summary](summary.csv)\n"
    page = render_html(text, Path("."), "report")
    assert "https://example.com" not in page.replace("[figure not found: https://example.com/x.png]", "")
    assert "javascript:" not in page and '<a href="summary.csv">summary</a>' in page
    assert "default-src 'none'; img-src data:" in page  # the policy forbids any other load
    assert not re.search(r"<(?:link|script)[^>]+(?:href|src)=", page)


def test_names_and_paths_are_shown_as_written_never_as_html(tmp_path):
    text = (
        '# Options <A&B> for `x<y`\n\n<div onclick="steal()">raw</div>\n\n'
        "| scenario | outcome |\n|---|---|\n| <script>alert(1)</script> | **no** |\n\n"
        "- `configs/<odd> & name.toml`\n"
    )
    page = render_html(text, tmp_path, "report")
    body = page[page.index("<main>") : page.index("</main>")]
    assert "<title>Options &lt;A&amp;B&gt; for x&lt;y</title>" in page
    assert '<h1 id="options-ab-for-xy">Options &lt;A&amp;B&gt; for <code>x&lt;y</code></h1>' in body
    assert '<p>&lt;div onclick="steal()"&gt;raw&lt;/div&gt;</p>' in body
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<strong>no</strong>" in body and "<code>configs/&lt;odd&gt; &amp; name.toml</code>" in body


def test_headings_get_githubs_anchors_so_the_contents_link_in_both():
    sections = [
        "## The answer: each option against continuity\n\ntext",
        "## Where the answer reverses",
        "## Means with 95% confidence intervals\n\n### rocket attacks (fewer is better; column `attacks_rocket`)",
    ]
    contents = contents_section(sections)
    assert contents.splitlines()[2:] == [
        "- [The answer: each option against continuity](#the-answer-each-option-against-continuity)",
        "- [Where the answer reverses](#where-the-answer-reverses)",
        "- [Means with 95% confidence intervals](#means-with-95-confidence-intervals)",
    ]  # as GitHub makes them: punctuation dropped, each space a hyphen
    page = render_html("# R\n\n" + "\n\n".join([sections[0], contents, *sections[1:]]), Path("."), "report")
    for target in re.findall(r"\(#([^)]+)\)", contents):
        assert f'<h2 id="{target}">' in page, target
    assert '<h3 id="rocket-attacks-fewer-is-better-column-attacks_rocket">' in page
    assert '<h2 id="contents">Contents</h2>\n<ul class="contents">' in page
    assert anchor("Options <A&B> 2020-21") == "options-ab-2020-21"
    with pytest.raises(ValueError, match="same anchor"):
        contents_section(["## Plots", "## Plots!"])


def test_headings_lists_bold_and_code_spans_render():
    text = "# Top\n\n## Section\n\nA paragraph with **bold** and `code`.\n\n- one\n- two\n\n### Sub\n"
    body = render_html(text, Path("."), "report")
    for piece in (
        '<h1 id="top">Top</h1>',
        '<h2 id="section">Section</h2>',
        '<h3 id="sub">Sub</h3>',
        "<strong>bold</strong>",
        "<code>code</code>",
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>",
    ):
        assert piece in body, piece


def test_the_title_falls_back_to_the_file_name_and_the_page_carries_no_date(tmp_path):
    path = markdown_folder(tmp_path, "Just a line.\n\n![p](p.png)\n", {"p.png": PIXEL})
    first = write_html(path).read_bytes()
    assert b"<title>report</title>" in first
    assert write_html(path).read_bytes() == first  # same inputs, same bytes
    assert not re.search(rb"20\d\d-\d\d-\d\d", first)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


HOSTILE_LINKS = [
    "javascript&#58;alert(1)",
    "javascript&colon;alert(1)",
    "javascript&#x3A;alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;&#x61;vascript&#0058;alert(1)",
    "java&#9;script:alert(1)",
    "java&#10;script&#58;alert(1)",
    "&#32;javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "javascript&amp;colon;alert(1)",
    "vbscript:x",
    "data:text/html;base64,PHNjcmlwdD4=",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("target", HOSTILE_LINKS)
def test_a_link_whose_scheme_a_browser_decodes_to_a_script_keeps_its_text_and_loses_its_href(target):
    page = render_html(f"# R\n\nSee [the source]({target}).\n", Path("."), "report")
    body = page[page.index("<main>") : page.index("</main>")]
    assert "<p>See <a>the source</a>.</p>" in body, body
    assert "href" not in body


def test_web_mail_anchor_and_relative_links_are_kept():
    text = "[w](https://example.org/a?b=1&c=2) [m](mailto:a@b.org) [s](#section) [r](summary.csv) [p](plots/a%3Ab.png)"
    body = render_html(text, Path("."), "report")
    for href in (
        'href="https://example.org/a?b=1&amp;c=2"',
        'href="mailto:a@b.org"',
        'href="#section"',
        'href="summary.csv"',
        'href="plots/a%3Ab.png"',
    ):
        assert href in body, href


def test_only_png_figures_inside_the_reports_folder_are_inlined(tmp_path):
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "secret.png").write_bytes(PIXEL)
    (outside / "secret.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    folder = tmp_path / "report"
    (folder / "plots").mkdir(parents=True)
    (folder / "plots" / "fig.png").write_bytes(PIXEL)
    (folder / "plots" / "pic.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (folder / "plots" / "fake.png").write_text("not a png")
    (folder / "plots" / "link.png").symlink_to(outside / "secret.png")
    images = {
        "abs": (outside / "secret.png").as_posix(),
        "up": "../secret/secret.png",
        "dotdot": "plots/../../secret/secret.png",
        "svg_out": "../secret/secret.svg",
        "svg_in": "plots/pic.svg",
        "symlink": "plots/link.png",
        "fake": "plots/fake.png",
        "file": (outside / "secret.png").as_uri(),
        "encoded": "%2E%2E/secret/secret.png",
    }
    text = "# R\n\n" + "\n\n".join(f"![{alt}]({src})" for alt, src in images.items()) + "\n\n![ok](plots/fig.png)\n"
    path = folder / "report.md"
    path.write_text(text, encoding="utf-8")
    page = write_html(path).read_text(encoding="utf-8")
    encoded = base64.b64encode(PIXEL).decode("ascii")
    assert page.count(encoded) == 1 and f'<img alt="ok" src="data:image/png;base64,{encoded}">' in page
    for alt in images:
        assert f'<p><span class="missing">{alt}</span></p>' in page, alt
    assert "secret" not in page and "<svg" not in page and "alert" not in page


def test_a_figure_larger_than_the_bound_is_shown_as_its_alt_text(tmp_path, monkeypatch):
    monkeypatch.setattr("sim.analysis.html.MAX_IMAGE_BYTES", len(PIXEL) - 1)
    path = markdown_folder(tmp_path, "# R\n\n![big](big.png)\n", {"big.png": PIXEL})
    page = write_html(path).read_text(encoding="utf-8")
    assert '<p><span class="missing">big</span></p>' in page and "base64" not in page


def test_the_policy_pins_the_pages_own_script_and_style_by_hash():
    page = render_html("# R\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n", Path("."), "report")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "unsafe-inline" not in policy and "unsafe" not in policy
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        contents = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
        assert len(contents) == 1
        digest = base64.b64encode(hashlib.sha256(contents[0].encode("utf-8")).digest()).decode("ascii")
        assert directives[directive] == f"'sha256-{digest}'"
    assert "style=" not in page and '<th class="align-left">a</th>' in page and '<td class="align-right">2</td>' in page


HOSTILE_DESCRIPTION = (
    "Options <b>x</b> & [a](javascript&#58;alert(1)) ![f](/etc/secret.png) *em* _u_ `c` | ~~s~~ \\ #\n# second line"
)


def test_free_text_in_a_reports_markdown_is_escaped_so_no_viewer_reads_it_as_markup(tmp_path):
    assert markdown_text(HOSTILE_DESCRIPTION) == (
        r"Options &lt;b&gt;x&lt;/b&gt; &amp; \[a\]\(javascript&amp;\#58;alert\(1\)\) \!\[f\]\(/etc/secret.png\) "
        r"\*em\* \_u\_ \`c\` \| &#126;&#126;s&#126;&#126; \\ \# \# second line"
    )
    runs = posterior_runs(OUTCOMES, ["continuity", "better"], 4, 2).drop(columns="draw")
    runs = runs[[c for c in runs.columns if not c.startswith("parameter.")]]
    path = write_report(
        tmp_path,
        runs,
        summarise(runs, OUTCOMES),
        paired_differences(runs, "continuity", OUTCOMES),
        OUTCOMES,
        "continuity",
        HOSTILE_DESCRIPTION,
        plot_outcomes=[],
    )
    assert path.read_text(encoding="utf-8").startswith(f"# {markdown_text(HOSTILE_DESCRIPTION)}\n")
    page = write_html(path).read_text(encoding="utf-8")
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page).group(1)
    shown = " ".join(HOSTILE_DESCRIPTION.split())
    assert unescape(heading) == shown and not re.search(r"<(?!/?h1)", heading)  # the text as written, no markup
    assert f"<title>{escape(shown, quote=False)}</title>" in page


# ------------------------------------------------------------------------------ in a browser


def chromium() -> str:
    """The system's Chromium; skipped when absent, failed when CI_REQUIRE_BROWSER=1."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        reason = "Chromium is not installed (no chromium or chromium-browser on PATH; .ci/run installs it)"
        if os.environ.get("CI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and CI_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    return binary


def run_chromium(binary: str, profile: Path, page: Path, *options: str) -> subprocess.CompletedProcess:
    """Headless Chromium on a local page, its console messages logged to stderr."""
    command = [
        binary,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *options,
        page.resolve().as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def console_messages(stderr: str) -> list[str]:
    return [m.group("message") for m in map(CONSOLE_LINE.search, stderr.splitlines()) if m]


# Appended to a copy of the page: after the page's own script, on load, writes what it sees
# (the window, where the answer's section lies on the first screen, whether the trade-off table
# scrolls sideways, where each link of the contents leads, every image's natural width, the
# headline table, its order after one and two clicks on a scenario's header) into the DOM, which
# --dump-dom prints.
CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  function column(table, index) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (row) { return row.cells[index].textContent.trim(); });
  }
  function section(prefix) {  // the level-2 heading that starts with prefix, and what follows it up to the next
    var found = Array.prototype.filter.call(document.querySelectorAll("h2"), function (h) {
      return h.textContent.indexOf(prefix) === 0;
    })[0];
    var parts = found ? [found] : [];
    for (var e = found ? found.nextElementSibling : null; e && e.tagName !== "H2"; e = e.nextElementSibling) { parts.push(e); }
    return parts;
  }
  function box(elements) {
    var boxes = elements.map(function (e) { return e.getBoundingClientRect(); });
    return {top: Math.min.apply(null, boxes.map(function (b) { return b.top; })),
            bottom: Math.max.apply(null, boxes.map(function (b) { return b.bottom; })),
            right: Math.max.apply(null, boxes.map(function (b) { return b.right; })),
            items: elements.reduce(function (n, e) { return n + e.querySelectorAll("li").length; }, 0),
            text: elements.map(function (e) { return e.textContent; }).join("\\n")};
  }
  var answer = section("The answer");
  var wrap = section("Trade-offs").filter(function (e) { return e.classList.contains("table-wrap"); })[0];
  var screen = {width: window.innerWidth, height: window.innerHeight, scrolled: window.scrollY,
                answer: answer.length ? box(answer) : null};
  if (wrap) {
    screen.tradeoff = {scroll_width: wrap.scrollWidth, width: wrap.clientWidth, scroll_height: wrap.scrollHeight,
                       height: wrap.clientHeight, right: wrap.getBoundingClientRect().right,
                       header: Array.prototype.map.call(wrap.querySelector("thead").rows[0].cells, function (c) {
                         return c.textContent.trim();
                       })};
  }
  screen.links = Array.prototype.map.call(document.querySelectorAll('a[href^="#"]'), function (a) {
    var target = document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
    return [a.getAttribute("href"), target ? target.tagName + " " + target.textContent.trim() : null];
  });
  var heading = Array.prototype.filter.call(document.querySelectorAll("h2"), function (h) {
    return h.textContent.indexOf("Means with 95% confidence intervals") === 0;
  })[0];
  var table = heading ? heading.nextElementSibling.querySelector("table") : null;
  var result = {
    screen: screen,
    images: Array.prototype.map.call(document.images, function (img) { return img.naturalWidth; }),
    header: table ? Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent.trim(); }) : [],
    outcomes: table ? column(table, 0) : [],
    sticky: table ? getComputedStyle(table.tHead.rows[0].cells[0]).position : ""
  };
  if (table) {
    var header = table.tHead.rows[0].cells[1];
    result.before = column(table, 1);
    header.click();
    result.ascending = column(table, 1);
    result.sort_state = header.getAttribute("aria-sort");
    header.click();
    result.descending = column(table, 1);
  }
  var out = document.createElement("pre");
  out.id = "checks";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>
"""


def with_check_script(html: str, check_script: str) -> str:
    """The page with ``check_script`` (a ``<script>`` element) added before its end, and the
    script's hash added to the page's policy, which pins the page's own script by its hash."""
    content = re.fullmatch(r"\s*<script>(.*)</script>\s*", check_script, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(content.encode("utf-8")).digest()).decode("ascii")
    assert html.count("script-src ") == 1
    html = html.replace("script-src ", f"script-src 'sha256-{digest}' ")
    return html.replace("</body>", check_script + "</body>")


def browser_checks(
    binary: str, profile: Path, report: Path, check_script: str = CHECK_SCRIPT
) -> tuple[dict, list[str]]:
    """What the check script saw on a copy of ``report`` beside it, in a window of ``SCREEN``,
    and the console messages."""
    page = report.with_name("browser_check.html")
    page.write_text(with_check_script(report.read_text(encoding="utf-8"), check_script), encoding="utf-8")
    try:
        result = run_chromium(
            binary, profile, page, "--virtual-time-budget=10000", "--dump-dom", f"--window-size={SCREEN[0]},{SCREEN[1]}"
        )
    finally:
        page.unlink()
    found = re.search(r'<pre id="checks">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found, f"the check script did not run: {result.stdout[-500:]}"
    return json.loads(unescape(found.group(1))), console_messages(result.stderr)


def experiment_file(folder: Path) -> Path:
    path = folder / "exp.toml"
    path.write_text(
        f"""
[experiment]
name = "html_report"
description = "Policy options <tiny> & quick"
base = "{BASELINE.as_posix()}"
reference = "continuity"
replications = 20
root_seed = 11
end_date = 2020-03-31
outcomes = {json.dumps(OUTCOMES)}

[scenarios.continuity]

[scenarios.better_cram]
set = {{ "cram.kill_prob" = 0.95 }}

[scenarios.worse_cram]
set = {{ "cram.kill_prob" = 0.3 }}
""",
        encoding="utf-8",
    )
    return path


def leading_number(cell: str) -> float:
    return float(re.match(r"[+-]?[\d.]+(?:e[+-]?\d+)?", cell).group(0))


def assert_the_answer_fits_the_first_screen(checks: dict, options: list[str]) -> None:
    """On a SCREEN-sized window, unscrolled: the answer's section (a line per option, no p-value)
    lies within the first SCREEN of the page, what a screenshot of that size shows (headless
    Chromium reports a shorter inner height under --dump-dom, its window frame taken off; the
    page's layout does not depend on it); the trade-off table has a column per option and does
    not scroll sideways; every link of the page's contents leads to a heading."""
    screen = checks["screen"]
    assert (screen["width"], screen["scrolled"]) == (SCREEN[0], 0)
    answer = screen["answer"]
    assert answer is not None, "the report has no answer section"
    assert 0 <= answer["top"] and answer["bottom"] <= SCREEN[1] and answer["right"] <= SCREEN[0], answer
    assert answer["items"] == len(options) and all(f"\n{option}" in answer["text"] for option in options), answer[
        "text"
    ]
    assert not re.search(r"\bp\s*[=<]|\d[eE][+-]?\d", answer["text"]), answer["text"]  # no p-value on the first screen
    tradeoff = screen["tradeoff"]
    assert tradeoff["header"] == ["outcome", *options]
    assert tradeoff["scroll_width"] <= tradeoff["width"] and tradeoff["right"] <= SCREEN[0], tradeoff
    assert screen["links"] and all(target and target.startswith("H2 ") for _, target in screen["links"]), screen[
        "links"
    ]


def posterior_runs(outcomes: list[str], options: list[str], draws: int, per_draw: int) -> pd.DataFrame:
    """Runs like those of an experiment over a posterior, with every option winning or losing
    clearly on most outcomes (the longest answer), and on the first outcome an effect that
    changes sign with the first of 40 drawn parameters (a reversal to report)."""
    rng = np.random.default_rng(7)
    n = draws * per_draw
    replication = np.arange(n)
    drawn = {f"campaign.parameter_{i:02d}": rng.uniform(0.0, 1.0, draws)[replication // per_draw] for i in range(40)}
    base = {o: rng.poisson(30.0, n).astype(float) for o in outcomes}
    frames = []
    for j, option in enumerate(options):
        values = {}
        for k, outcome in enumerate(outcomes):
            if outcome == "embassy_closed":
                values[outcome] = rng.uniform(0, 1, n) < 0.2 * j
            elif k == 0 and j:
                values[outcome] = base[outcome] + 40.0 * (drawn["campaign.parameter_00"] - 0.7) + rng.normal(0, 2, n)
            else:
                values[outcome] = base[outcome] + (0.0 if j == 0 else rng.choice([-5.0, 5.0])) + rng.normal(0, 2, n)
        frames.append(
            pd.DataFrame(
                {
                    "scenario": option,
                    "replication": replication,
                    "seed": 7,
                    "draw": replication // per_draw,
                    **values,
                    **{f"parameter.{p}": v for p, v in drawn.items()},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.mark.slow
def test_the_answer_of_a_posterior_report_fits_the_first_screen(tmp_path):
    """The longest first screen the posterior policy comparison can give: its title, options and
    14 outcomes, most of them won or lost, with a reversal for every option."""
    binary = chromium()
    config = tomllib.loads(POSTERIOR_EXPERIMENT.read_text(encoding="utf-8"))
    outcomes, options = config["experiment"]["outcomes"], list(config["scenarios"])
    draws, per_draw = 100, 4
    runs = posterior_runs(outcomes, options, draws, per_draw)
    posterior = {
        "file": "configs/data/posterior.parquet",
        "parameters": [f"campaign.parameter_{i:02d}" for i in range(40)],
        "draws": draws,
        "replications_per_draw": per_draw,
    }
    reference = config["experiment"]["reference"]
    path = write_report(
        tmp_path,
        runs,
        summarise(runs, outcomes),
        paired_differences(runs, reference, outcomes),
        outcomes,
        reference,
        config["experiment"]["description"],
        plot_outcomes=[],
        posterior=posterior,
    )
    checks, messages = browser_checks(binary, tmp_path / "profile", write_html(path))
    assert messages == [], messages
    assert_the_answer_fits_the_first_screen(checks, options[1:])
    assert "the parameters' uncertainty" in checks["screen"]["answer"]["text"]
    assert checks["screen"]["answer"]["text"].count("Reverses on ") == len(options) - 1
    screenshot = tmp_path / "first_screen.png"
    run_chromium(
        binary,
        tmp_path / "profile",
        write_html(path),
        f"--screenshot={screenshot}",
        f"--window-size={SCREEN[0]},{SCREEN[1]}",
    )
    data = screenshot.read_bytes()
    assert data[:8] == PNG_SIGNATURE and struct.unpack(">II", data[16:24]) == SCREEN


def test_the_console_check_sees_a_deliberate_console_error(tmp_path):
    binary = chromium()
    page = tmp_path / "noisy.html"
    page.write_text(
        '<!DOCTYPE html><html><body><script>console.error("deliberate console error");</script></body></html>'
    )
    result = run_chromium(binary, tmp_path / "profile", page, "--virtual-time-budget=2000", "--dump-dom")
    assert "deliberate console error" in console_messages(result.stderr)


@pytest.mark.slow
def test_an_experiment_report_renders_in_chromium_with_its_figures_and_sortable_table(tmp_path):
    binary = chromium()
    out = tmp_path / "results"
    result = api.run_experiment(experiment_file(tmp_path), out, batch=api.BatchOptions(workers=1))
    report = out / "report.html"
    assert report.is_file() and (out / "report.md").is_file()
    html = report.read_text(encoding="utf-8")
    assert "<title>Policy options &lt;tiny&gt; &amp; quick</title>" in html and 'src="plots/' not in html

    checks, messages = browser_checks(binary, tmp_path / "profile", report)
    figures = len(re.findall(r"!\[[^\]]*\]\(plots/[^)]+\.png\)", (out / "report.md").read_text(encoding="utf-8")))
    assert figures > len(OUTCOMES) and len(checks["images"]) == figures  # every figure the report shows, drawn
    assert all(width > 0 for width in checks["images"]), checks["images"]
    assert checks["header"] == ["outcome", "continuity", "better_cram", "worse_cram"]
    assert checks["outcomes"] == [label(o) for o in OUTCOMES] and checks["sticky"] == "sticky"
    means = [leading_number(c) for c in checks["before"]]
    assert len(set(means)) == len(means)  # distinct, so that the order tells
    assert [leading_number(c) for c in checks["ascending"]] == sorted(means) and checks["sort_state"] == "ascending"
    assert [leading_number(c) for c in checks["descending"]] == sorted(means, reverse=True)
    assert messages == [], messages
    assert set(result.summary["scenario"]) == {"continuity", "better_cram", "worse_cram"}
    assert_the_answer_fits_the_first_screen(checks, ["better_cram", "worse_cram"])
    assert "Monte Carlo error only" in checks["screen"]["answer"]["text"]

    screenshot = out / "report_screenshot.png"
    run_chromium(binary, tmp_path / "profile", report, f"--screenshot={screenshot}", "--window-size=1400,2000")
    data = screenshot.read_bytes()
    assert data[:8] == PNG_SIGNATURE and struct.unpack(">II", data[16:24]) == (1400, 2000) and len(data) > 10_000

    # `compare` rewrites the report from the same runs: the same bytes.
    before = report.read_bytes()
    code, _, stderr = call_main(["compare", out])
    assert code == 0, stderr
    assert report.read_bytes() == before


# Clicks every link of the page but web ones, then writes what it saw: the page's title, every image's source
# and natural width, every link's href, and whether a script of the report's text ran.
HOSTILE_CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  Array.prototype.forEach.call(document.querySelectorAll("a"), function (a) {
    if (!/^https?:/.test(a.getAttribute("href") || "")) { a.click(); }  // a web link would leave the page
  });
  var out = document.createElement("pre");
  out.id = "checks";
  out.textContent = JSON.stringify({
    title: document.title, ran: window.pwned === true,
    images: Array.prototype.map.call(document.images, function (img) { return [img.src.slice(0, 21), img.naturalWidth]; }),
    links: Array.prototype.map.call(document.querySelectorAll("a"), function (a) { return a.getAttribute("href"); })
  });
  document.body.appendChild(out);
});
</script>
"""


@pytest.mark.slow
def test_a_report_of_hostile_free_text_runs_no_script_and_inlines_no_local_file_in_chromium(tmp_path):
    """An experiment's description with script links their scheme spelled in character references,
    raw HTML and images of files outside the report's folder, in the title (escaped as text) and
    as Markdown in a section (as a record's source reaches validation.md): in Chromium no script
    runs (no console message either: nothing was blocked), no link goes anywhere but where it says,
    and only the report's own figures are drawn."""
    binary = chromium()
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "secret.png").write_bytes(PIXEL)
    (secret / "secret.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    description = (
        "Options [a](javascript&#58;window.pwned=true) [b](&#x6A;avascript&colon;window.pwned=true) "
        "[c](java&#9;script:window.pwned=true) [web](https://example.org) <img src=x onerror=window.pwned=true> "
        f"![abs]({(secret / 'secret.png').as_posix()}) ![up](../secret/secret.svg) ![up2](../secret/secret.png)"
    )
    options, outcomes = ["continuity", "better"], OUTCOMES
    runs = posterior_runs(outcomes, options, 10, 2).drop(columns="draw")
    runs = runs[[c for c in runs.columns if not c.startswith("parameter.")]]
    out = tmp_path / "results"
    path = write_report(
        out,
        runs,
        summarise(runs, outcomes),
        paired_differences(runs, "continuity", outcomes),
        outcomes,
        "continuity",
        description,
        plot_outcomes=outcomes[:1],
    )
    with path.open("a", encoding="utf-8") as file:
        file.write(f"\n## Sources\n\n- `check`: {description}\n")
    html = write_html(path).read_text(encoding="utf-8")
    assert not re.search(r'src="(?!data:image/png;base64,)', html) and html.count("data:image/png;base64,") == len(
        re.findall(r"!\[[^\]]*\]\(plots/[^)]+\.png\)", path.read_text(encoding="utf-8"))
    )  # only the report's own figures
    assert not re.search(r"href=\"[^\"]*(?:script|secret)", html, re.IGNORECASE)
    checks, messages = browser_checks(binary, tmp_path / "profile", path.with_suffix(".html"), HOSTILE_CHECK_SCRIPT)
    assert messages == [], messages
    assert checks["ran"] is False and checks["title"] == description
    figures = len(re.findall(r"!\[[^\]]*\]\(plots/[^)]+\.png\)", path.read_text(encoding="utf-8")))
    assert figures >= 1 and len(checks["images"]) == figures
    assert all(src == "data:image/png;base64" and width > 0 for src, width in checks["images"]), checks["images"]
    assert all(href is None or href == "https://example.org" or href.startswith("#") for href in checks["links"]), (
        checks["links"]
    )
    assert "https://example.org" in checks["links"]
