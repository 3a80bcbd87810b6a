"""The Achievement Portal."""

import os
import sys
from pathlib import Path

# Piccolo finds its engine in piccolo_conf.py at the project root, whichever way we are started.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
