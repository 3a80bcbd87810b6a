"""What a report may say and how many a person may send."""

from __future__ import annotations

from datetime import timedelta

from src.tables.reports import ReportCategory, ReportState

# What each reporter may say, in their own words: the learner about their own document, a third
# party about one shared with them (never "my name", never "I should not see it"). Staff read every
# category in the learner's words (CATEGORIES).
LEARNER_CATEGORIES = {
    ReportCategory.wrong_name.value: "My name is wrong",
    ReportCategory.wrong_details.value: "A grade, unit or date is wrong",
    ReportCategory.should_not_see.value: "I should not see this document",
    ReportCategory.other.value: "Something else",
}
THIRD_PARTY_CATEGORIES = {
    ReportCategory.wrong_details.value: "A grade, unit or date is wrong",
    ReportCategory.other.value: "Something else",
}
CATEGORIES = LEARNER_CATEGORIES
STATES = {
    ReportState.open.value: "Sent, waiting for an answer",
    ReportState.answered.value: "Answered",
    ReportState.closed.value: "Closed",
}
MAX_MESSAGE = 2000
PER_DAY = 10  # reports one person may send in any 24 hours
PER_DOCUMENT = 3  # reports one person may send on one document, ever
DAY = timedelta(hours=24)


def categories_for(third_party: bool) -> dict[str, str]:
    """The categories this reporter is offered and may send, by value, in their words."""
    return THIRD_PARTY_CATEGORIES if third_party else LEARNER_CATEGORIES


def check(category: str, message: str, *, third_party: bool = False) -> dict[str, str]:
    """Errors by field name, in page order; empty when the report may be sent."""
    errors: dict[str, str] = {}
    message = clean(message)
    if category in CATEGORIES and category not in categories_for(third_party):
        errors["category"] = "Choose one of the problems listed here"
    elif category not in CATEGORIES:
        errors["category"] = "Choose what is wrong"
    if not message:
        errors["message"] = "Describe the problem"
    elif len(message) > MAX_MESSAGE:
        errors["message"] = f"Describe the problem in {MAX_MESSAGE:,} characters or fewer"
    return errors


def check_answer(answer: str) -> dict[str, str]:
    answer = clean(answer)
    if not answer:
        return {"answer": "Write an answer to the reporter"}
    if len(answer) > MAX_MESSAGE:
        return {"answer": f"Write the answer in {MAX_MESSAGE:,} characters or fewer"}
    return {}


def clean(text: str) -> str:
    """Text as it is kept: NUL characters dropped (PostgreSQL text cannot hold them), ends trimmed."""
    return text.replace("\x00", "").strip()
