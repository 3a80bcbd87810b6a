"""What a personal name on a document may contain, and the level as a document states it.

A name is printed on certificates and lands in spreadsheets (the errors file, staff exports), so it
must read as a name: letters and combining marks of any script, with spaces, hyphens, apostrophes
(' and the typographic U+2019) and full stops between them. That refuses markup (< > " & …),
digits, and every cell a spreadsheet would run as a formula (= + - @ at the start), without
refusing any script's names.
"""

from __future__ import annotations

import unicodedata

PUNCTUATION = " -'\u2019."
# Persian and Indic names need the zero-width (non-)joiner between letters; other format
# characters (bidirectional overrides among them) could make a name read as something else.
JOINERS = "\u200c\u200d"
NAME_RULE = "letters, spaces, hyphens (-), apostrophes (') and full stops"


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "L"


def name_problem(label: str, name: str) -> str:
    """Why `name` (cleaned, NFC) cannot be a personal name, in words; "" when it can."""
    if not name:
        return ""
    if not _is_letter(name[0]):
        return f"{label} must start with a letter, not “{name[0]}”"
    for ch in name:
        if not (_is_letter(ch) or unicodedata.category(ch)[0] == "M" or ch in PUNCTUATION or ch in JOINERS):
            shown = ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"
            return f"{label} may use only {NAME_RULE}, not “{shown}”"
    return ""


def as_name(text: str) -> str:
    """One written form of a name: composed characters (a "ị" typed as i + dot below on one computer
    and as one character on another is the same name, and the same document), single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


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
