"""From a document file's bytes to what the index stores: plain text, a title and chunks.

Pure functions, no I/O, so the rules (what counts as text, where a title comes from, where a chunk
ends) are tested without a database.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# A chunk is the unit of search and of the snippet: big enough to hold a section's context,
# small enough that a match in it says something about the document.
CHUNK_TARGET_CHARS = 1500
CHUNK_MAX_CHARS = 2000

HTML_SUFFIXES = frozenset({".html", ".htm"})
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 h4"
    " h5 h6 header hr li main nav ol p pre section table td th tr ul".split()
)
_SKIPPED_TAGS = frozenset({"script", "style", "template", "noscript"})
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+])\1{2,}\s*$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


def decode_text(data: bytes) -> str | None:
    """The text of a UTF-8 file, or None for anything that is not (binary, other encodings)."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML page, a line break at each block element, and the
    <title> (or failing that the first <h1>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._h1 = ""
        self._skipping = 0
        self._in: str | None = None  # "title" or "h1" while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "title" or (tag == "h1" and not self._h1):
            self._in = tag
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n" if tag not in ("br", "td", "th") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        if tag == self._in:
            self._in = None
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._in == "title":
            self.title += data
            return
        if self._in == "h1":
            self._h1 += data
        self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

    def heading(self) -> str:
        return " ".join((self.title or self._h1).split())


def html_to_text(html: str) -> tuple[str, str]:
    """(visible text, title) of an HTML page; scripts and styles dropped, entities decoded."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.text(), parser.heading()


def first_heading(text: str) -> str:
    """The first Markdown (`# Title`, or `Title` over `===`) or reStructuredText heading."""
    lines = text.splitlines()[:200]
    for number, line in enumerate(lines):
        match = _ATX_HEADING.match(line)
        if match:
            return match.group(1).strip()
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if line.strip() and not _UNDERLINE.match(line) and _UNDERLINE.match(following):
            return line.strip()
    return ""


def extract(suffix: str, text: str, file_name: str) -> tuple[str, str]:
    """(searchable text, title) of a document; the title falls back to the file name."""
    if suffix.lower() in HTML_SUFFIXES:
        body, title = html_to_text(text)
    else:
        body, title = text, first_heading(text)
    return body, (title[:300] or file_name)


def _split_long(paragraph: str, limit: int) -> list[str]:
    """Cut a paragraph longer than `limit` at line breaks, else at spaces, else anywhere."""
    pieces: list[str] = []
    rest = paragraph
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


def chunk(text: str, target: int = CHUNK_TARGET_CHARS, limit: int = CHUNK_MAX_CHARS) -> list[str]:
    """Consecutive paragraphs packed into chunks of about `target` characters, never more than
    `limit`; a chunk ends on a paragraph boundary unless one paragraph alone is too long."""
    chunks: list[str] = []
    current = ""
    for raw in _PARAGRAPH_BREAK.split(text):
        paragraph = raw.strip()
        if not paragraph:
            continue
        for piece in _split_long(paragraph, limit):
            if current and len(current) + 2 + len(piece) > limit:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
            if len(current) >= target:
                chunks.append(current)
                current = ""
    if current:
        chunks.append(current)
    return chunks
