#!/usr/bin/env python3
"""Checks a headscope HTML report with Python's own HTML parser (independently of headscope).

Usage: check_report_html.py REPORT.html

Prints JSON: {"balanced": bool, "problems": [...], "scripts": n, "event_attributes": [...],
"external_refs": [...], "section_ids": [...], "h2": [...], "text": "all text content",
"svg": n, "images": n, "title": "..."}.
"balanced" is true when every non-void element is closed in order.
"""
import json
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# SVG elements written as <x .../> are self-closing; html.parser reports them via handle_startendtag.


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.problems = []
        self.scripts = 0
        self.events = []
        self.external = []
        self.sections = []
        self.h2 = []
        self.text = []
        self.svg = 0
        self.images = 0
        self.title = ""
        self._in = []

    def _attrs(self, tag, attrs):
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.events.append(f"{tag}.{name}")
            if name in ("src", "href") and value and not value.startswith(("#", "data:")):
                self.external.append(value)
        if tag == "script":
            self.scripts += 1
        if tag == "section":
            self.sections.append(dict(attrs).get("id", ""))
        if tag == "svg":
            self.svg += 1
        if tag == "image":
            self.images += 1

    def handle_starttag(self, tag, attrs):
        self._attrs(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)
        self._in.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._attrs(tag, attrs)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "title" and "head" in self.stack:
            self.title += data
        if self.stack and self.stack[-1] == "h2":
            self.h2.append(data)
        self.text.append(data)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:  # strict: the report must be valid UTF-8
        source = f.read()
    c = Checker()
    c.feed(source)
    c.close()
    if c.stack:
        c.problems.append(f"unclosed: {c.stack}")
    print(json.dumps({
        "balanced": not c.problems,
        "problems": c.problems[:20],
        "scripts": c.scripts,
        "event_attributes": c.events,
        "external_refs": c.external,
        "section_ids": c.sections,
        "h2": c.h2,
        "text": "".join(c.text),
        "svg": c.svg,
        "images": c.images,
        "title": c.title,
    }))


main()
