"""The one Jinja environment (Litestar's template engine is built from it): its globals and filters,
and links by route name remembered per app.

Two Jinja methods are overridden in `TemplateEnvironment`, each for a `make bench` gate (the why is
on each; the measurements are in bench/README.md). Everything else is Jinja's and Litestar's own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, MutableMapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig
from litestar.template.base import csrf_token
from markupsafe import Markup

from src import qr
from src.assets import static_url
from src.clock import long_date
from src.connections import access_words, other_name, row_words, state_words
from src.db import Row
from src.documents import standing, verify_url
from src.settings import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# What a Row answers as an attribute before its keys (dict's methods): Jinja prefers attributes.
_ROW_ATTRIBUTES = frozenset(dir(Row))
_MISSING = object()

# A list row's links, by route name, in one call from the template (each call from a template costs
# more than the reversal it asks for, which _reverser remembers).
CONNECTION_ROUTES = (
    "connection",
    "accept_connection",
    "decline_connection",
    "request_extension",
    "confirm_cancel",
)


class TemplateEnvironment(Environment):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # Pages the same for every visitor but for the CSRF token, rendered once (src/htmx.py, AlikePage).
        self.alike_pages: OrderedDict[tuple[Any, ...], tuple[bytes, bytes]] = OrderedDict()

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`row.field` in a template, read straight from the keys of a Row or a plain dict (fast path:
        the connections gates of `make bench`, where a list page reads hundreds of fields). Jinja's
        own lookup tries the attribute first and raises and catches an AttributeError for each; the
        answer is the same: dict's own methods still win, a missing key is still Undefined."""
        if (type(obj) is Row or type(obj) is dict) and attribute not in _ROW_ATTRIBUTES:
            value = obj.get(attribute, _MISSING)
            return self.undefined(obj=obj, name=attribute) if value is _MISSING else value
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals: the environment's own dict when the template has none of its own
        (fast path: the verify gate of `make bench`). Jinja layers them in a ChainMap that every render
        copies key by key; sharing the dict keeps what the ChainMap gave, globals set after a template
        was loaded (see link_globals) included."""
        if not d:
            return self.globals
        return super().make_globals(d)


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    environment = TemplateEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # Outside development every template is compiled once: no file-time check on each render.
        auto_reload=settings.development,
        cache_size=1000,
    )
    environment.globals.update(
        static_url=static_url,
        org_name=settings.org_name,
        support_email=settings.support_email,
        development=settings.development,
    )
    # A document's verify address and its QR code (segno's SVG: only our own URL and code in it).
    environment.globals["verify_url"] = lambda code: verify_url(settings.verify_base, code)
    environment.globals["verify_qr"] = lambda code: Markup(qr.svg(verify_url(settings.verify_base, code)))  # noqa: S704
    # A connection in words (src/connections/words.py), for the list rows and the macros around them.
    environment.globals["connection_name"] = other_name
    environment.globals["connection_state"] = state_words
    environment.globals["connection_access"] = access_words
    environment.globals["connection_row_words"] = row_words
    environment.filters["long_date"] = long_date
    environment.filters["iso_long_date"] = _iso_long_date
    # The one status rule for documents, in words: "Valid", "Document valid until …", "Revoked" …
    environment.filters["standing"] = lambda document, today: standing(document, today).words
    environment.filters["local_time"] = lambda t: (
        t.astimezone(settings.tz).strftime("%-d %B %Y, %H:%M") if isinstance(t, datetime) else ""
    )
    engine = JinjaTemplateEngine.from_environment(environment)
    engine.register_template_callable(key="url_for", template_callable=_url_for)
    engine.register_template_callable(key="csrf_field", template_callable=_csrf_field)
    return TemplateConfig(engine=engine)


def link_globals(app: Litestar, environment: Any) -> None:
    """Links that need no request, bound to the app once it exists: so the connection row's macros
    can be imported without "with context" (which runs their file again on every render)."""
    reverse = _reverser(app)

    def connection_urls(connection_id: int) -> dict[str, str]:
        return {name: reverse(name, (("connection_id", connection_id),)) for name in CONNECTION_ROUTES}

    environment.globals["reverse_url"] = reverse
    environment.globals["connection_urls"] = connection_urls
    environment.globals["connections_url"] = app.route_reverse("connections")
    # The verify page's receipt link, from one reversal: a million codes through the remembered
    # `url_for` would each cost a reversal and push every other remembered link out (verify gate).
    before, _, after = app.route_reverse("api_verify_receipt", code="CODE").partition("CODE")
    environment.globals["receipt_url"] = lambda code: f"{before}{code}{after}"


def _reverser(app: Litestar) -> Callable[[str, tuple[tuple[str, Any], ...]], str]:
    """The app's `route_reverse`, remembered (fast path: the connections gates of `make bench`; a list
    page asks ~90 times): a route's address for given parameters never changes while the app runs.
    One cache per app, kept in its template globals, so that a finished app is not kept alive."""

    @lru_cache(maxsize=16384)
    def reverse(name: str, parameters: tuple[tuple[str, Any], ...]) -> str:
        return app.route_reverse(name, **dict(parameters))

    return reverse


def _url_for(context: Mapping[str, Any], /, route_name: str, **parameters: Any) -> str:
    """Litestar's `url_for`, remembered (see _reverser)."""
    return context["reverse_url"](route_name, tuple(sorted(parameters.items())))


def _csrf_field(context: Mapping[str, Any], /) -> Markup:
    """The CSRF token as a hidden field, for every form: a global, so a template needs no import "with
    context" for it (such an import runs the whole macro file again on every render)."""
    return Markup('<input type="hidden" name="_csrf_token" value="{}">').format(csrf_token(context))


def _iso_long_date(value: str | None) -> str:
    """A date kept as ISO text in a document snapshot, in words ("14 March 2026")."""
    try:
        return long_date(date.fromisoformat(value)) if value else ""
    except (TypeError, ValueError):
        return str(value or "")
