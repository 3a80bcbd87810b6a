"""The "Add to LinkedIn" link on a learner's own current document: LinkedIn's add-to-profile form,
filled in. A plain link (nothing is loaded from LinkedIn, no tracking); the entry it makes points
back at the document's verify address, which stays the proof.

With LINKEDIN_ORGANIZATION_ID the entry names the awarding body's LinkedIn page (its logo, and an
entry that reads as official); without it, only the body's name.
"""

from __future__ import annotations

from urllib.parse import urlencode

from src.documents.verify_codes import printed
from src.documents.verify_links import verify_url
from src.tables.documents import Document

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def linkedin_url(document: Document, *, verify_base: str, org_name: str, organization_id: str) -> str:
    """The add-to-profile address for one document."""
    awarded, valid_until = document.awarded_on, document.valid_until
    params: list[tuple[str, str]] = [("startTask", "CERTIFICATION_NAME"), ("name", document.title)]
    if organization_id:
        params.append(("organizationId", organization_id))
    else:
        params.append(("organizationName", org_name))
    params += [("issueYear", str(awarded.year)), ("issueMonth", str(awarded.month))]
    if valid_until:
        params += [("expirationYear", str(valid_until.year)), ("expirationMonth", str(valid_until.month))]
    code = document.verify_code
    params += [("certUrl", verify_url(verify_base, code)), ("certId", printed(code))]
    return f"{ADD_TO_PROFILE}?{urlencode(params)}"
