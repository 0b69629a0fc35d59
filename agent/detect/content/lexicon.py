"""Word-list matching that sees through masking: "f*ck", "sh!t", "f u c k", "a$$hole", "fuuuck".

Matching is per whole word, never per substring, so "Scunthorpe", "cocktail",
"assessment" and "Middlesex" are not hits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_LEET = str.maketrans({"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "|": "i", "0": "o",
                       "$": "s", "5": "s", "7": "t", "+": "t", "€": "e"})
_MASKS = frozenset("*#%_?")
#: a "word" may carry leet and mask characters inside it
_WORD = re.compile(r"[A-Za-z0-9@$!|*#%_?+€']+")
#: single letters separated by spaces, dots or dashes: "f u c k", "s.h.i.t", "f-u-c-k"
_SPACED = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z@$!*#][ .\-]{1,2}){2,}[A-Za-z@$!*#](?![A-Za-z0-9])")
_REPEATS = re.compile(r"(.)\1+")

LEXICON_DIR = Path(__file__).parent / "lexicons"


@dataclass(frozen=True)
class WordHit:
    word: str  # the lexicon entry it matched
    found: str  # the text as written
    start: int
    end: int


def squash(word: str) -> str:
    """Collapse repeated letters: "fuuuck" -> "fuck", "asshole" -> "ashole"; pure."""
    return _REPEATS.sub(r"\1", word)


def _candidates(text: str) -> Iterator[tuple[str, int, int]]:
    for match in _WORD.finditer(text):
        word = match.group(0).strip("'_?")
        if word:
            start = text.index(word, match.start())
            yield word, start, start + len(word)
    for match in _SPACED.finditer(text):
        yield re.sub(r"[ .\-]", "", match.group(0)), match.start(), match.end()


class Lexicon:
    """A set of words (already inflected) matched against text word by word."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(w.lower() for w in words if w)
        self._squashed = {squash(w): w for w in self.words}
        self._by_length: dict[int, list[str]] = {}
        for word in self.words:
            self._by_length.setdefault(len(word), []).append(word)

    @classmethod
    def load(cls, name: str) -> Lexicon:
        """A lexicon from ``lexicons/NAME.txt`` (one word per line, # comments)."""
        return _load(name)

    def match_word(self, raw: str) -> str | None:
        """The lexicon word this written word stands for, or None; pure."""
        lowered = raw.lower()
        if any(c in _MASKS for c in lowered):
            return self._match_masked(lowered)
        plain = lowered.translate(_LEET)
        if not plain.isalpha():
            return None
        if plain in self.words:
            return plain
        return self._squashed.get(squash(plain))

    def _match_masked(self, lowered: str) -> str | None:
        visible = [c for c in lowered if c not in _MASKS]
        if len(visible) < 2 or not lowered[0].isalpha() or len(visible) == len(lowered):
            return None
        pattern = "".join("[a-z]" if c in _MASKS else re.escape(c.translate(_LEET)) for c in lowered)
        regex = re.compile(pattern)
        for word in self._by_length.get(len(lowered), ()):
            if regex.fullmatch(word):
                return word
        return None

    def find(self, text: str) -> list[WordHit]:
        """Every word of ``text`` that is (a disguised form of) a lexicon word."""
        hits = []
        for raw, start, end in _candidates(text):
            word = self.match_word(raw)
            if word is not None:
                hits.append(WordHit(word, text[start:end], start, end))
        return hits


@cache
def _load(name: str) -> Lexicon:
    lines = (LEXICON_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return Lexicon(line.split("#", 1)[0].strip() for line in lines)
