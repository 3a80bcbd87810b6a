"""Route modules, one Controller per resource."""

from __future__ import annotations

from typing import Any

from src.settings import Settings


def all_route_handlers(settings: Settings) -> list[Any]:
    from src.routes.account import AccountController
    from src.routes.addresses import AddressController
    from src.routes.connections import ConnectionController
    from src.routes.documents import DocumentController
    from src.routes.extensions import ExtensionController
    from src.routes.home import HomeController
    from src.routes.mailbox import MailboxController
    from src.routes.password import PasswordController
    from src.routes.profile import ProfileController
    from src.routes.session import SessionController
    from src.routes.sharing import SharingController
    from src.routes.staff import StaffController
    from src.routes.staff_documents import StaffDocumentController
    from src.routes.staff_imports import StaffImportController

    handlers: list[Any] = [
        HomeController,
        AccountController,
        SessionController,
        PasswordController,
        ProfileController,
        AddressController,
        StaffController,
        StaffDocumentController,
        StaffImportController,
        SharingController,
        ConnectionController,
        ExtensionController,
        DocumentController,
    ]
    if settings.development:
        handlers.append(MailboxController)  # absent in production mode
    return handlers
