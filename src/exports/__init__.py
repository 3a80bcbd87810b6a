"""Exports: a copy of everything the portal holds about a person (learner or third party), as one
ZIP made while it is downloaded, and the rules for downloading it. It reads every area's rows of the
person, so it sits above them all. Other code uses only the names below."""

from src.exports.archive import data_archive, readme
from src.exports.downloads import MAX_DOWNLOADS, record_download
from src.exports.sections import SECTIONS, Reader, Section

__all__ = [
    "MAX_DOWNLOADS",
    "SECTIONS",
    "Reader",
    "Section",
    "data_archive",
    "readme",
    "record_download",
]
