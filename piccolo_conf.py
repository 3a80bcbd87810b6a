"""Piccolo's entry point: the engine comes from DATABASE_URL (see src/db.py)."""

from piccolo.conf.apps import AppRegistry

from src.db import engine_from_url
from src.settings import load_settings

DB = engine_from_url(load_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["src.tables.piccolo_app"])
