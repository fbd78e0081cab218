"""A model's free-text query, made safe for the full-text engines.

The query is reduced to words (letters and digits only) and quoted phrases of such words, so
nothing the model writes can reach the FTS5 query syntax (`NEAR(`, `*`, `AND`, `^`, column
filters) or break the SQL: the expressions built here contain only those words, double quotes
and our own operators, and are passed as bound parameters.

Semantics, the same on both backends: a document must contain every term (a phrase counts as one
term) in one chunk; when no document does, the search falls back to documents with any term, and
says so. Very common English words are dropped first, as Postgres' `english` configuration does
(SQLite's tokenizer keeps them), unless the query has nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_TERMS = 32
MAX_PHRASE_WORDS = 16

_SEGMENT = re.compile(r'"([^"]*)"?|[^\s"]+')  # a quoted phrase (closed or not), or a bare run
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what the tokenizers keep
STOPWORDS = frozenset(
    "a an and are as at be but by do does for from has have how i if in into is it its no not of"
    " on or so such that the their then there these they this to was what when where which who"
    " why will with you".split()
)


@dataclass(frozen=True)
class ParsedQuery:
    """The terms of a query: each a tuple of words (one word, or a quoted phrase)."""

    terms: tuple[tuple[str, ...], ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    def fts5(self, *, any_term: bool) -> str:
        """An FTS5 MATCH expression: every term a quoted string, joined by AND (or OR)."""
        operator = " OR " if any_term else " AND "
        return operator.join('"' + " ".join(words) + '"' for words in self.terms)

    def websearch(self, *, any_term: bool) -> str:
        """Input for Postgres' `websearch_to_tsquery`: words, "phrases", and `or` between them
        when any term will do."""
        operator = " or " if any_term else " "
        return operator.join(
            words[0] if len(words) == 1 else '"' + " ".join(words) + '"' for words in self.terms
        )

    def describe(self) -> str:
        return " ".join(w[0] if len(w) == 1 else '"' + " ".join(w) + '"' for w in self.terms)


def parse_query(query: str) -> ParsedQuery:
    """The searchable terms of `query`, lower-cased, at most MAX_TERMS of them (an empty result
    when the query has no letters or digits at all)."""
    terms: list[tuple[str, ...]] = []
    for match in _SEGMENT.finditer(unicodedata.normalize("NFC", query)):
        words = _WORD.findall(match.group(0).lower())
        if not words:
            continue
        if match.group(1) is not None and len(words) > 1:  # a quoted phrase
            terms.append(tuple(words[:MAX_PHRASE_WORDS]))
        else:
            terms.extend((word,) for word in words)
    unique = list(dict.fromkeys(terms))
    meaningful = [t for t in unique if not (len(t) == 1 and t[0] in STOPWORDS)]
    return ParsedQuery(tuple((meaningful or unique)[:MAX_TERMS]))
