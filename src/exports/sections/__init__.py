"""What a person's data download holds, one section (a table) at a time: the person's own rows of
every kind, read for that person only. Each section names its columns, so its CSV file always has
the same header, also when it has no rows; its JSON file has the same rows (and, for documents,
the frozen content as issued, which a spreadsheet row cannot hold).

Everything is read by the person's account id (or, for emails, by the addresses the account holds
and since when it holds them), so no row of anyone else's can be in it: a row about someone else
appears only where it is also the person's (the other side of their own connection).

A section is read a page at a time, in id order (a `Window`: after one id, up to another), so a
third party with ten thousand connections and their events is never held in memory whole.

The sections are grouped by what they are about: the person (person.py), their documents
(documents.py) and their connections (connections.py); section.py says what a section is."""

from src.exports.sections.connections import CONNECTIONS, EVENTS, EXTENSION_REQUESTS, VIEWS
from src.exports.sections.documents import DOCUMENTS, PRINT_ORDERS, REPORTS, VERIFY_CHECKS
from src.exports.sections.person import ADDRESSES, CONTACTS, EMAILS, PROFILE
from src.exports.sections.section import Reader, Section, Window

# In the order of the download's README and files.
SECTIONS = (
    PROFILE,
    ADDRESSES,
    CONTACTS,
    DOCUMENTS,
    CONNECTIONS,
    EXTENSION_REQUESTS,
    EVENTS,
    VIEWS,
    VERIFY_CHECKS,
    REPORTS,
    PRINT_ORDERS,
    EMAILS,
)

__all__ = ["SECTIONS", "Reader", "Section", "Window"]
