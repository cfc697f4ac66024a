"""A sentence as the use cases say it: English words with named blanks, and the facts that fill
them. The command line prints it as it is; the browser app translates the words (a gettext
message, the blanks left as they are) and then fills the blanks, so a finding reads in the page's
language while its names, paths and numbers stay exact.

A fact may itself be a ``Said`` ("3 days ago", "never"): it is translated the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

Fact = Union[str, int, float, "Said"]


@dataclass(frozen=True)
class Said:
    words: str
    facts: Mapping[str, Fact] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.words.format(**{k: str(v) for k, v in self.facts.items()})

    def as_dict(self) -> dict[str, Any]:
        """``{"words": ..., "facts": {...}}``: JSON, a fact that is a sentence as its own dict."""
        return {
            "words": self.words,
            "facts": {k: v.as_dict() if isinstance(v, Said) else v for k, v in self.facts.items()},
        }


def said(words: str, **facts: Fact) -> Said:
    """``words`` (English, ``{name}`` for each blank) with ``facts``. The browser app's message
    catalog takes every ``said("...")`` of the code as a message to translate."""
    return Said(words, facts)


def say(doc: Mapping[str, Any], translate: Callable[[str], str]) -> str:
    """A sentence's ``as_dict`` in the language of ``translate``. A translation whose blanks do
    not match the facts falls back to the English words, never to an error or a lost fact."""
    given = dict(doc.get("facts") or {})
    facts = {k: say(v, translate) if isinstance(v, Mapping) else str(v) for k, v in given.items()}
    words = str(doc.get("words", ""))
    try:
        return translate(words).format(**facts)
    except (KeyError, IndexError, ValueError):
        return words.format(**facts)
