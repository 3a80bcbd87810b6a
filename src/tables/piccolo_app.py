"""Piccolo app for the portal's tables; migrations live in piccolo_migrations/."""

import os

from piccolo.conf.apps import AppConfig

from src.tables.accounts import Account, Address, Authenticator, ContactDetail, EmailAddress, RecoveryCode
from src.tables.connections import AccessEvent, Connection, ExtensionRequest, SharedDocument
from src.tables.documents import Document, ImportBatch, VerifyTally
from src.tables.outbox import OutboxEmail
from src.tables.passkeys import Passkey
from src.tables.printing import PrintOrder
from src.tables.reports import Report

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"),
    table_classes=[
        Account,
        EmailAddress,
        ContactDetail,
        Address,
        Authenticator,
        RecoveryCode,
        OutboxEmail,
        ImportBatch,
        Document,
        Connection,
        SharedDocument,
        ExtensionRequest,
        AccessEvent,
        Report,
        PrintOrder,
        VerifyTally,
        Passkey,
    ],
    migration_dependencies=[],
    commands=[],
)
