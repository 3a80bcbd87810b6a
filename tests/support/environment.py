"""Where the tests' database, files and site are.

tests/conftest.py puts DATABASE_URL and VAR_DIR in the environment before anything imports `src`
(the database engine is chosen when the tables are imported); this module only reads them back.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

DATABASE_URL = os.environ["DATABASE_URL"]
VAR_DIR = Path(os.environ["VAR_DIR"])
IS_POSTGRES = DATABASE_URL.startswith("postgres")
# The site's own address in links and emails; the test client sends requests to it.
BASE_URL = "http://testserver.local"


def free_port() -> int:
    """A TCP port on localhost nobody listens on (for a test SMTP server or a real `portal serve`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# A Redis database the tests may empty (FLUSHDB). `make test` gives the SQLite and the PostgreSQL
# runs, which go side by side, a database each.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
