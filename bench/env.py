"""The bench's environment and constants, set before anything imports the tables (Piccolo binds
its engine at import time): a throw-away database (SQLite, or PostgreSQL when BENCH_DATABASE_URL
is set) in a temporary VAR_DIR."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="portal-bench-"))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "").strip()
DB_URL = PG_URL or f"sqlite:///{_TMP / 'bench.sqlite3'}"
os.environ["DATABASE_URL"] = DB_URL
os.environ["VAR_DIR"] = str(_TMP)
os.environ["RUN_MAIL_WORKER"] = "false"
os.environ["PORTAL_MODE"] = "development"
os.environ["MAIL_DELIVERY"] = "mailbox"
os.environ["BASE_URL"] = "http://testserver.local"
os.environ.pop("REDIS_URL", None)
IS_POSTGRES = DB_URL.startswith("postgres")
# With PostgreSQL, the server measured over HTTP keeps its sessions in Redis, as production does.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "").strip() if IS_POSTGRES else ""

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "20"))
LIMIT = float(os.environ.get("BENCH_MAX_RATIO", "1.5"))
OUT_DIR = ROOT / "var" / "bench"
BASE_URL = "http://testserver.local"
PASSWORD = "bench-lantern-meadow-piano-" + secrets.token_hex(4)

SMALL, LARGE = "small", "large"
SECOND_STEP = "second_step"
SIZES = {SMALL: 10, LARGE: 10_000}
N_LEARNERS = 2_000
BATCH = 250

FIRST_NAMES = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Grace",
    "Freya",
    "Sophia",
    "Ella",
    "Evie",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theodore",
    "Jack",
    "Freddie",
    "Charlie",
    "Thomas",
    "Alfie",
    "Jacob",
    "Samir",
    "Priya",
    "Aisha",
    "Mohammed",
    "Yusuf",
    "Zara",
    "Chloe",
    "Megan",
    "Rhys",
    "Cerys",
    "Dylan",
    "Niamh",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
    "Phillips",
    "Richardson",
    "Mitchell",
    "Bailey",
    "Carter",
    "Cook",
    "Singh",
    "Shaw",
    "Bell",
    "Collins",
    "Morgan",
    "Kelly",
    "Begum",
    "Miller",
    "Cox",
    "Hussain",
    "Marshall",
    "Simpson",
    "Price",
    "Anderson",
    "Adams",
    "Wilkinson",
    "Ali",
    "Ahmed",
    "Foster",
    "Ellis",
    "Murphy",
    "Chapman",
    "Mason",
    "Gray",
    "Richards",
    "Webb",
    "Griffiths",
    "Hunt",
    "Palmer",
    "Campbell",
    "Holmes",
    "Mills",
    "Rogers",
    "Barnes",
    "Knight",
    "Matthews",
    "Barker",
    "Powell",
    "Stevens",
    "Kaur",
    "Fisher",
    "Butler",
    "Dixon",
    "Russell",
    "Harvey",
    "Pearson",
    "Graham",
    "Fletcher",
    "Lloyd",
    "Hart",
    "Jenkins",
    "Holt",
    "Reid",
    "Burton",
    "Lawson",
    "Doyle",
    "Quinn",
    "Nolan",
    "Ferguson",
    "Okafor",
    "Nowak",
    "Kowalski",
    "Rossi",
    "Silva",
    "Novak",
    "Byrne",
    "Lynch",
    "Gallagher",
    "Fraser",
]
SEARCH_SURNAME = "Gallagher"  # about N_LEARNERS / len(LAST_NAMES) learners carry it
