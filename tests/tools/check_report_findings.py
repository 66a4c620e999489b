#!/usr/bin/python3
"""Checks a report's Findings page against the results file it was rendered from, independently of
headscope's code: h5py reads the results, Python's HTML parser reads the report, poppler's pdfinfo,
pdftotext and pdftoppm read the PDF.

  check_report_findings.py RESULTS.h5 REPORT.html [REPORT.pdf --max-pages N]

Checks:
  - the first <section> of the HTML is the Findings section, with one line per analysis in the
    order of the results file;
  - the table of the heads that matter names exactly the heads of the analyses' top lists (the
    `roles` attribute of /results/<id>; for a result with neither roles nor a headline, the top 3
    heads of its first head grid);
  - every number of every head card equals the head's value in the named head grid of the .h5;
  - the PDF has at most N pages, the findings on page 1, and nothing drawn in the page margins
    (above the top margin, beside the text column, or between the content and the page number).
Prints a JSON summary; exits 1 listing every problem.
"""
import json
import math
import subprocess
import sys
from html.parser import HTMLParser

import h5py
import numpy as np


def head_label(layer, head):
    return f"L{layer}H{head}"


def expected_heads(f):
    heads, lines = set(), []
    for aid in json.loads(f.attrs["analyses"]):
        g = f["results"][aid]
        lines.append(aid)
        roles = json.loads(g.attrs.get("roles", "[]") or "[]")
        headline = g.attrs.get("headline", "")
        error = g.attrs.get("error", "")
        if roles or headline or error:
            heads.update(head_label(r["layer"], r["index"]) for r in roles)
            continue
        for key in json.loads(g.attrs["items"]):
            d = g[key]
            if d.attrs.get("kind") != "head_grid":
                continue
            v = np.array(d)
            order = np.abs(v) if d.attrs.get("scale") == "diverging" else v
            flat = [(i, x) for i, x in enumerate(order.ravel()) if np.isfinite(x)]
            flat.sort(key=lambda t: -t[1])
            heads.update(head_label(i // v.shape[1], i % v.shape[1]) for i, _ in flat[:3])
            break
    return heads, lines


class Report(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections = []           # ids in order
        self.finding_lines = []      # data-analysis of <li> in the findings section
        self.table_heads = []        # data-head of rows in table.heads
        self.cards = {}              # head -> [(analysis, item, value)]
        self.card_order = []
        self._section = None
        self._table = None
        self._card = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = a.get("id")
            self.sections.append(self._section)
        elif tag == "li" and self._section == "findings" and "data-analysis" in a:
            self.finding_lines.append(a["data-analysis"])
        elif tag == "table":
            self._table = a.get("class")
        elif tag == "tr" and self._table == "heads" and "data-head" in a:
            self.table_heads.append(a["data-head"])
        elif tag == "div" and a.get("class") == "card":
            self._card = a["data-head"]
            self.cards[self._card] = []
            self.card_order.append(self._card)
        elif tag == "tr" and self._card and "data-item" in a:
            self.cards[self._card].append((a["data-analysis"], a["data-item"], a["data-value"]))

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "section":
            self._section = None
            self._card = None


def parse_value(text):
    return float("nan") if text == "NaN" else float(text)


def pgm(path):
    with open(path, "rb") as fh:
        data = fh.read()
    parts, pos = [], 0
    while len(parts) < 4:  # P5 width height maxval
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(data[pos:end])
        pos = end
    w, h = int(parts[1]), int(parts[2])
    pixels = np.frombuffer(data[pos + 1:pos + 1 + w * h], dtype=np.uint8).reshape(h, w)
    return pixels


def check_pdf(pdf, max_pages, problems, summary, tmp_prefix):
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    pages = int(next(l.split()[-1] for l in info.splitlines() if l.startswith("Pages:")))
    summary["pdf_pages"] = pages
    if pages > max_pages:
        problems.append(f"the PDF has {pages} pages, more than {max_pages}")
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", pdf, "-"], capture_output=True, text=True,
                           check=True).stdout
    for words in ("Findings", "Heads that matter"):
        if words not in first:
            problems.append(f"page 1 of the PDF does not show '{words}'")
    # Margins: A4 in points; content within [50, 545] x [50, 786]; the page number near y = 814.
    dpi = 36
    subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), pdf, tmp_prefix], check=True)
    scale = dpi / 72
    bad = []
    for p in range(1, pages + 1):
        name = f"{tmp_prefix}-{p:0{len(str(pages))}d}.pgm"
        img = pgm(name)
        h, w = img.shape
        ink = img < 235
        pad = 2  # pixels of tolerance for anti-aliasing at the content's edge
        bands = {
            "top margin": ink[: int(50 * scale) - pad, :],
            "left margin": ink[:, : int(50 * scale) - pad],
            "right margin": ink[:, int(545.3 * scale) + pad:],
            "bottom margin": ink[int(786 * scale) + pad: int(803 * scale), :],
        }
        for where, band in bands.items():
            if band.any():
                bad.append(f"page {p}: ink in the {where}")
    if bad:
        problems.extend(bad)
    summary["margin_problems"] = bad


def main():
    args = sys.argv[1:]
    max_pages = None
    if "--max-pages" in args:
        i = args.index("--max-pages")
        max_pages = int(args[i + 1])
        del args[i:i + 2]
    h5, html = args[0], args[1]
    pdf = args[2] if len(args) > 2 else None
    problems, summary = [], {}
    f = h5py.File(h5, "r")
    heads, analyses = expected_heads(f)
    report = Report()
    with open(html, encoding="utf-8") as fh:
        report.feed(fh.read())
    summary.update(sections=report.sections, table_heads=report.table_heads, expected_heads=sorted(heads),
                   cards=report.card_order)
    if not report.sections or report.sections[0] != "findings":
        problems.append(f"the first section is {report.sections[:1]}, not the findings")
    if report.finding_lines != analyses:
        problems.append(f"findings lines {report.finding_lines} != analyses {analyses}")
    if set(report.table_heads) != heads:
        problems.append(f"heads table {sorted(report.table_heads)} != the analyses' top lists {sorted(heads)}")
    if len(report.table_heads) != len(set(report.table_heads)):
        problems.append("a head appears twice in the heads table")
    if report.card_order != report.table_heads[: len(report.card_order)]:
        problems.append("the cards are not the first heads of the table")
    checked = 0
    for head, rows in report.cards.items():
        layer, index = (int(x) for x in head[1:].split("H"))
        if not rows:
            problems.append(f"card {head} has no numbers")
        for aid, item, text in rows:
            want = float(f["results"][aid][item][layer, index])
            got = parse_value(text)
            checked += 1
            if not (got == want or (math.isnan(got) and math.isnan(want))):
                problems.append(f"card {head}: {aid}/{item} shows {got!r}, the .h5 holds {want!r}")
    summary["card_values_checked"] = checked
    if pdf:
        check_pdf(pdf, max_pages or 10**9, problems, summary, pdf + ".page")
    summary["problems"] = problems
    print(json.dumps(summary))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
