"""Route modules, one Controller per resource."""

from __future__ import annotations

from typing import Any

from litestar import Router

from src.routes.account import AccountController
from src.routes.addresses import AddressController
from src.routes.api_problems import EXCEPTION_HANDLERS, schema_router
from src.routes.connections import ConnectionController
from src.routes.data_download import DataDownloadController
from src.routes.documents import DocumentController
from src.routes.expiring import ExpiringController
from src.routes.extensions import ExtensionController
from src.routes.home import HomeController
from src.routes.jwks import JwksController
from src.routes.mailbox import MailboxController
from src.routes.passkey_sign_in import PasskeySignInController
from src.routes.passkeys import PasskeyController
from src.routes.password import PasswordController
from src.routes.print_orders import PrintOrderController
from src.routes.profile import ProfileController
from src.routes.reloads import reload_handlers
from src.routes.reports import ReportController
from src.routes.second_email import SecondEmailController
from src.routes.second_step import SecondStepController
from src.routes.session import SessionController
from src.routes.shared_documents import SharedDocumentController
from src.routes.sharing import SharingController
from src.routes.staff import StaffController, StaffTwoStepController
from src.routes.staff_documents import StaffDocumentController
from src.routes.staff_imports import StaffImportController
from src.routes.staff_prints import StaffPrintController
from src.routes.staff_reports import StaffReportController
from src.routes.two_step import TwoStepController
from src.routes.verify import VerifyController
from src.routes.verify_api import VerifyApiController
from src.routes.verify_choice import VerifyChoiceController
from src.routes.verify_receipt_check import ReceiptCheckController
from src.routes.verify_receipts import ReceiptApiController
from src.settings import Settings

__all__ = ["EXCEPTION_HANDLERS", "all_route_handlers", "schema_router"]


def all_route_handlers(settings: Settings) -> list[Any]:
    handlers: list[Any] = [
        HomeController,
        AccountController,
        SessionController,
        SecondStepController,
        PasswordController,
        ProfileController,
        PasskeyController,
        PasskeySignInController,
        SecondEmailController,
        DataDownloadController,
        TwoStepController,
        AddressController,
        StaffController,
        StaffTwoStepController,
        StaffDocumentController,
        StaffImportController,
        SharingController,
        ExpiringController,
        ConnectionController,
        ExtensionController,
        DocumentController,
        VerifyController,
        VerifyChoiceController,
        ReceiptCheckController,
        SharedDocumentController,
        ReportController,
        StaffReportController,
        PrintOrderController,
        StaffPrintController,
    ]
    if settings.development:
        handlers.append(MailboxController)  # absent in production mode
    # The OpenAPI schema describes the JSON API only; the HTML pages are not an API.
    pages = Router(path="/", route_handlers=handlers, include_in_schema=False)
    for reload in reload_handlers(pages.routes):
        pages.register(reload)
    return [pages, VerifyApiController, ReceiptApiController, JwksController]
