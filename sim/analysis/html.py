"""One self-contained HTML file beside a Markdown report, to open in a browser or send by mail.

``report.md`` becomes ``report.html`` in the same folder: its figures inlined as base64 data URIs,
its style and its one small script (sortable tables) inline, no font, style sheet or script fetched
from anywhere; a Content-Security-Policy forbids any load but the inlined images and any script
or style but the page's own (pinned by their hashes), so what opens offline is what the reader
sees. Only PNG figures inside the report's folder are inlined: an image the text names elsewhere
(an absolute or ``../`` path, a link out of the folder, another format) is shown as its alt text.
Tables get zebra rows and a header that stays in view, and sort on a click on a header (numbers by
value: the first number of a cell such as ``1.2 [0.8, 1.6]``).
Headings get the ids GitHub gives them (:func:`sim.analysis.contents.anchor`), so a report's table
of contents links the same sections in both; the list under a ``Contents`` heading is set in
columns.

The text of the report is text: HTML written in the Markdown (an outcome or a path with ``<`` or
``&`` in it) is shown as written, never interpreted, and links other than web, mail, in-page or
relative ones lose their target (read as a browser reads them: ``javascript&#58;`` is a script).
The page carries no date: the same report and figures give the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from html import escape, unescape
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from markdown.util import AMP_SUBSTITUTE

from sim.analysis.contents import CONTENTS, anchor
from sim.batch.folder import write_atomic

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # the only figures the project writes, and the only ones inlined
MAX_IMAGE_BYTES = 20_000_000  # a figure larger than this is not inlined
SAFE_SCHEMES = {"http", "https", "mailto"}
SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
# What a browser drops from a URL before reading its scheme: whitespace and control characters.
URL_IGNORED = re.compile(r"[\x00-\x20\x7f-\x9f\s]+")
FIRST_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.DOTALL)
TAG = re.compile(r"<[^>]+>")


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1d232b; background: #fff; max-width: 78rem; margin: 0 auto; padding: .75rem 2rem 4rem;
       line-height: 1.5; }
h1 { font-size: 1.55rem; line-height: 1.3; border-bottom: 2px solid #2b4c7e; padding-bottom: .3rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; color: #2b4c7e; }
h1 + h2 { margin-top: .8rem; }  /* the answer, right under the title: on the first screen */
li + li { margin-top: .15rem; }
h3 { font-size: 1.1rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em;
       background: #f1f3f6; padding: .05em .3em; border-radius: 3px; }
img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
.missing { color: #a11; font-style: italic; }
.table-wrap { overflow: auto; max-height: 85vh; width: fit-content; max-width: 100%; margin: 1rem 0;
              border: 1px solid #d5dae1; }
table { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .65rem; border-bottom: 1px solid #e1e5ea; text-align: left; vertical-align: top; }
thead th { position: sticky; top: 0; z-index: 1; background: #e6ebf2; border-bottom: 2px solid #9aa8bb;
           cursor: pointer; user-select: none; white-space: nowrap; }
thead th:hover, thead th:focus { background: #d3dceb; outline: none; }
thead th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: .7em; }
thead th[aria-sort="descending"]::after { content: " \\25BC"; font-size: .7em; }
tbody tr:nth-child(even) { background: #f6f8fb; }
tbody tr:hover { background: #fdf6d8; }
.align-left { text-align: left; } .align-right { text-align: right; } .align-center { text-align: center; }
ul.contents { columns: 3 16rem; column-gap: 2rem; margin: .5rem 0; }
@media print { .table-wrap { max-height: none; overflow: visible; } thead th { position: static; } }
"""

# Sorts a table's body rows by the clicked column: by number when every filled cell starts with
# one (an interval's lower bound, a mean with its interval), else as text; empty cells ('–') last.
SCRIPT = r"""
(function () {
  "use strict";
  var NUMBER = /^[\[(]?\s*([+\-\u2212]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+\-]?\d+)?)/i;
  var EMPTY = ["", "\u2013", "-"];
  function number(text) {
    var match = NUMBER.exec(text);
    return match ? parseFloat(match[1].replace("\u2212", "-")) : null;
  }
  function sortBy(table, column, header) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var direction = header.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    var rows = Array.prototype.map.call(body.rows, function (row, index) {
      var cell = row.cells[column];
      var text = cell ? cell.textContent.trim() : "";
      var empty = EMPTY.indexOf(text) >= 0;
      return {row: row, index: index, text: text, empty: empty, value: empty ? null : number(text)};
    });
    var numeric = rows.every(function (r) { return r.empty || r.value !== null; });
    rows.sort(function (a, b) {
      if (a.empty !== b.empty) { return a.empty ? 1 : -1; }
      var order = a.empty ? 0 : (numeric ? a.value - b.value : a.text.localeCompare(b.text));
      return direction * order || a.index - b.index;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    Array.prototype.forEach.call(header.parentNode.cells, function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", direction === 1 ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tHead.rows.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
      header.tabIndex = 0;
      header.title = "Sort by this column";
      header.addEventListener("click", function () { sortBy(table, column, header); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, column, header); }
      });
    });
  });
}());
"""


def source_hash(text: str) -> str:
    """The CSP source that allows exactly an inline ``<script>`` or ``<style>`` with this content."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


# Only the page's own style and script run: pinned by their hashes, not by 'unsafe-inline'.
POLICY = f"default-src 'none'; img-src data:; style-src {source_hash(STYLE)}; script-src {source_hash(SCRIPT)}"
ALIGN_STYLE = re.compile(r"^\s*text-align:\s*(left|right|center);?\s*$")


def write_html(markdown_path: str | Path) -> Path:
    """Write the self-contained HTML version of a Markdown report beside it.

    Parameters
    ----------
    markdown_path : str or Path
        A report (``report.md``, ``validation.md``, ``posterior_report.md``); its images are read
        relative to its folder.

    Returns
    -------
    Path
        The HTML file: the same name with ``.html`` (``report.md`` -> ``report.html``), written
        atomically. A figure the report names but that is missing is shown as a line saying so.
    """
    markdown_path = Path(markdown_path)
    page = render_html(markdown_path.read_text(encoding="utf-8"), markdown_path.parent, markdown_path.stem)
    path = markdown_path.with_suffix(".html")
    write_atomic(path, lambda p: p.write_text(page, encoding="utf-8", newline="\n"))
    return path


def render_html(text: str, folder: Path, fallback_title: str) -> str:
    """The page for Markdown ``text`` whose images are relative to ``folder``; its title is the
    first level-1 heading, else ``fallback_title``."""
    body = markdown_converter(Path(folder)).convert(text)
    heading = FIRST_HEADING.search(body)
    title = unescape(TAG.sub("", heading.group(1))).strip() if heading else ""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title or fallback_title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            "<main>",
            body,
            "</main>",
            f"<script>{SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def markdown_converter(folder: Path):
    """Python-Markdown with pipe tables, raw HTML shown as text, headings with GitHub's ids, and
    the tree processor that makes the page self-contained."""
    import markdown
    from markdown.extensions.toc import TocExtension
    from markdown.treeprocessors import Treeprocessor

    class SelfContained(Treeprocessor):
        def run(self, root: Element) -> None:
            self_contained(root, folder)

    headings = TocExtension(slugify=lambda text, separator: anchor(text))  # GitHub's ids, for the contents' links
    converter = markdown.Markdown(extensions=["tables", "sane_lists", headings], output_format="html")
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    # After the inline processor (priority 20), which makes the images and links.
    converter.treeprocessors.register(SelfContained(converter), "self_contained", 5)
    return converter


def self_contained(root: Element, folder: Path) -> None:
    """Inline every image, drop unsafe links, make tables sortable and wrap them for scrolling,
    and mark the list of a ``Contents`` section."""
    from xml.etree.ElementTree import Element

    children = list(root)
    for heading, following in zip(children, children[1:]):
        if heading.tag == "h2" and "".join(heading.itertext()).strip() == CONTENTS and following.tag == "ul":
            following.set("class", "contents")
    for element in root.iter():
        if element.tag == "img":
            inline_image(element, folder)
        elif element.tag == "a" and not safe_link(element.get("href", "")):
            element.attrib.pop("href", None)
        elif element.tag == "table":
            element.set("class", "sortable")
        if "style" in element.attrib:  # a column's alignment: a class, as the policy allows no style attribute
            align = ALIGN_STYLE.match(element.attrib.pop("style"))
            if align:
                element.set("class", f"align-{align.group(1)}")
    tables = [(parent, i) for parent in root.iter() for i, child in enumerate(parent) if child.tag == "table"]
    for parent, i in tables:
        wrapper = Element("div", {"class": "table-wrap"})
        wrapper.append(parent[i])
        parent[i] = wrapper


def safe_link(href: str) -> bool:
    """Whether a link is a web, mail, in-page or relative one, read as a browser reads it: its
    character references decoded (``javascript&#58;`` is ``javascript:``), whitespace and control
    characters dropped."""
    decoded = href.replace(AMP_SUBSTITUTE, "&")
    for _ in range(5):  # a reference that spells another: decoded until nothing changes
        decoded, before = unescape(decoded), decoded
        if decoded == before:
            break
    scheme = SCHEME.match(URL_IGNORED.sub("", decoded))
    return scheme is None or scheme.group(1).lower() in SAFE_SCHEMES


def inline_image(element: Element, folder: Path) -> None:
    """Replace an image's ``src`` by a data URI of the PNG file it names inside ``folder``; a
    missing figure becomes a visible note instead, and any other image (remote, outside the
    report's folder, not a PNG, too large) its alt text."""
    source = element.get("src", "")
    alt = element.get("alt", "")
    root = Path(folder).resolve()
    relative = unquote(source.replace(AMP_SUBSTITUTE, "&"))
    path = (root / relative).resolve()
    local = ":" not in source and not Path(relative).is_absolute() and path.is_relative_to(root)
    if not (local and path.suffix.lower() == ".png"):
        log.warning("report figure %s: not a PNG inside %s, shown as its alt text", source, folder)
        replace_image(element, alt)
        return
    if not path.is_file():
        log.warning("report figure %s: not found in %s", source, folder)
        replace_image(element, f"[figure not found: {source}]" + (f" {alt}" if alt else ""))
        return
    with path.open("rb") as file:
        data = file.read(MAX_IMAGE_BYTES + 1)
    if not data.startswith(PNG_SIGNATURE) or len(data) > MAX_IMAGE_BYTES:
        log.warning("report figure %s: not a PNG file of at most %d bytes", source, MAX_IMAGE_BYTES)
        replace_image(element, alt)
        return
    element.set("src", "data:image/png;base64," + base64.b64encode(data).decode("ascii"))


def replace_image(element: Element, text: str) -> None:
    """An image shown as a line of text instead."""
    element.clear()
    element.tag = "span"
    element.set("class", "missing")
    element.text = text
