"""Moved to tests/support/factories.py (and tests/support/clocks.py for `today`). These names stay
importable here for branches written before the move; new tests import from tests.support."""

from tests.support.clocks import today as today
from tests.support.factories import FAST_HASH as FAST_HASH
from tests.support.factories import STATES as STATES
from tests.support.factories import People as People
from tests.support.factories import build_connection as build_connection
from tests.support.factories import make_document as make_document
from tests.support.factories import pending_requests as pending_requests
from tests.support.factories import prepare_people as prepare_people
from tests.support.factories import reload as reload
