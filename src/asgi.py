"""The only module-level app, for ASGI servers: `uvicorn src.asgi:app`."""

from src.app import create_app
from src.settings import load_settings

app = create_app(load_settings())
