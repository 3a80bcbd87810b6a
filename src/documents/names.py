"""A learner's name as a document prints it, and the level as a document states it (what a name may
contain is every form's rule: `src.forms.name_problem`)."""

from __future__ import annotations


def printed_name(first: str, middle: str, last: str) -> str:
    """The learner's name as the document prints it: every part given, in order."""
    return " ".join(part for part in (first, middle, last) if part)


def level_as_stated(level: str) -> str:
    """The level without a word the page adds itself ("Level 3", "level 3", "LEVEL 3" and "L3" are
    stored as "3"; anything else, such as "Entry 3" or "4 to 7", as written)."""
    words = level.split()
    if len(words) == 2 and words[0].lower() == "level":
        return words[1]
    if len(level) > 1 and level[0] in "Ll" and level[1:].isascii() and level[1:].isdigit():
        return level[1:]
    return level
