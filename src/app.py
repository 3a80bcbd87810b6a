"""create_app(settings): the whole portal as one Litestar app, configured only from Settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.middleware.allowed_hosts import AllowedHostsMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.template import TemplateConfig
from litestar.template.base import csrf_token
from markupsafe import Markup

from src import db, qr
from src.assets import STATIC, static_url
from src.auth import AccountMiddleware
from src.clock import long_date, today_in
from src.compression import PostSafeCompressionMiddleware, warm_static
from src.connections import access_words, other_name, row_words, send_reminders, state_words
from src.db import Row
from src.documents import standing, verify_url
from src.errors import http_exception_handler, internal_error_handler
from src.jobs import PeriodicJob
from src.mail import MailWorker
from src.routes import all_route_handlers
from src.security import CSRFMiddleware, SecurityMiddleware, cookie_name
from src.sessions import RotatingSessionConfig, SessionFileStore
from src.settings import Settings
from src.tokens import Tokens

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_BODY = 64 * 1024  # forms are small; anything bigger is refused with 413 before parsing
log = logging.getLogger("portal")


def _stores(settings: Settings) -> dict[str, Store]:
    if settings.redis_url:
        root = RedisStore.with_client(url=settings.redis_url, namespace="portal")
        return {"sessions": root.with_namespace("sessions"), "throttle": root.with_namespace("throttle")}
    base = settings.var_dir / "store"
    return {
        "sessions": SessionFileStore(base / "sessions", create_directories=True),
        "throttle": FileStore(base / "throttle", create_directories=True),
    }


def _iso_long_date(value: str | None) -> str:
    """A date kept as ISO text in a document snapshot, in words ("14 March 2026")."""
    try:
        return long_date(date.fromisoformat(value)) if value else ""
    except (TypeError, ValueError):
        return str(value or "")


# What a Row answers as an attribute before its keys (dict's methods): Jinja prefers attributes.
_ROW_ATTRIBUTES = frozenset(dir(Row))
_MISSING = object()


# Brotli for pages of 4 KB and more to browsers that accept it (all current ones), gzip for
# smaller pages and the rest (src/compression.py says why). Pages are a few KB and made per
# request: brotli 4 with a 256 KB window (not 5 with 4 MB) and gzip 6 (not 9) compress them
# within a few percent of the slower settings for about three quarters of the time.
COMPRESSION = CompressionConfig(
    backend="brotli",
    brotli_gzip_fallback=True,
    # Quality 4: below it brotli is larger than gzip at level 6 on our pages (the register page:
    # 2,100 bytes at quality 1 against 1,923), which would make brotli pointless; its CPU
    # (about 40 microseconds on a page) did not show in the server's throughput.
    brotli_quality=4,
    brotli_lgwin=18,
    gzip_compress_level=6,
    minimum_size=500,
)


class TemplateEnvironment(Environment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        """`row.field` in a template, read straight from the keys of a Row or a plain dict. Jinja's own
        lookup tries the attribute first: for a Row that is a failed class lookup and then
        Row.__getattr__ in Python; for a dict (a list row's `urls.connection`) an AttributeError raised
        and caught; and a key the row lacks (`content.grade` on a snapshot without a grade) raises and
        catches three exceptions before it becomes Undefined. The answer is the same: dict's own
        methods still win, a missing key is still Undefined."""
        if (type(obj) is Row or type(obj) is dict) and attribute not in _ROW_ATTRIBUTES:
            value = obj.get(attribute, _MISSING)
            return self.undefined(obj=obj, name=attribute) if value is _MISSING else value
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals: the environment's own dict when the template has none of its own
        (ours never do). Jinja layers them in a ChainMap, which every render then copies key by key
        into a new context, twice: a fifth of the verify page's render time. Sharing the dict keeps
        what a ChainMap gave, globals set after a template was loaded (see _link_globals) included."""
        if not d:
            return self.globals
        return super().make_globals(d)


def _template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
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


def _reverser(app: Litestar) -> Callable[[str, tuple[tuple[str, Any], ...]], str]:
    """The app's `route_reverse`, remembered: a route's address for given parameters never changes while
    the app runs, and reversing it costs more than the rest of a list row (a list page asks ~90 times).
    One cache per app, kept in its template globals: a cache keyed by the app kept every app alive
    (a test suite makes hundreds), and with them all they held."""

    @lru_cache(maxsize=16384)
    def reverse(name: str, parameters: tuple[tuple[str, Any], ...]) -> str:
        return app.route_reverse(name, **dict(parameters))

    return reverse


def _url_for(context: Mapping[str, Any], /, route_name: str, **parameters: Any) -> str:
    """Litestar's `url_for`, remembered (see _reverser)."""
    return context["reverse_url"](route_name, tuple(sorted(parameters.items())))


# A list row's links, by route name, in one call from the template (each call from a template costs
# more than the reversal it asks for, which _reverser remembers).
CONNECTION_ROUTES = (
    "connection",
    "accept_connection",
    "decline_connection",
    "request_extension",
    "confirm_cancel",
)


def _link_globals(app: Litestar, environment: Any) -> None:
    """Links that need no request, bound to the app once it exists: so the connection row's macros
    can be imported without "with context" (which runs their file again on every render)."""
    reverse = _reverser(app)

    def connection_urls(connection_id: int) -> dict[str, str]:
        return {name: reverse(name, (("connection_id", connection_id),)) for name in CONNECTION_ROUTES}

    environment.globals["reverse_url"] = reverse
    environment.globals["connection_urls"] = connection_urls
    environment.globals["connections_url"] = app.route_reverse("connections")


def _csrf_field(context: Mapping[str, Any], /) -> Markup:
    """The CSRF token as a hidden field, for every form: a global, so a template needs no import "with
    context" for it (such an import runs the whole macro file again on every render)."""
    return Markup('<input type="hidden" name="_csrf_token" value="{}">').format(csrf_token(context))


def reminder_job(settings: Settings) -> PeriodicJob:
    """The job that emails "access ends in 7 days" and "access has ended"."""
    return PeriodicJob(
        "reminders", settings.reminder_interval_seconds, lambda: send_reminders(today_in(settings.tz))
    )


def create_app(settings: Settings) -> Litestar:
    template_config = _template_config(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.open_pool(settings.db_pool_min, settings.db_pool_max)
        await anyio.to_thread.run_sync(warm_static)  # static files compressed once, before any request
        worker = jobs = None
        if settings.run_mail_worker:
            worker = MailWorker(template_config.engine_instance, settings, poll=settings.mail_poll_seconds)
            worker.start()
            app.state.mail_worker = worker
            jobs = reminder_job(settings)
            jobs.start()
        try:
            yield
        finally:
            if jobs is not None:
                await jobs.stop()
            if worker is not None:
                await worker.stop()
            await db.close_pool()

    session_config = RotatingSessionConfig(
        key=cookie_name("portal_session", settings.https),
        max_age=settings.session_absolute_hours * 3600,
        secure=settings.https,
        httponly=True,
        samesite="lax",
        store="sessions",
    )
    static_router = create_static_files_router(
        path="/static",
        directories=[STATIC],
        cache_control=CacheControlHeader(max_age=31536000, public=True, immutable=True),
        include_in_schema=False,
    )
    app = Litestar(
        route_handlers=[*all_route_handlers(settings), static_router],
        lifespan=[lifespan],
        middleware=[
            SecurityMiddleware(settings),
            session_config.middleware,
            AccountMiddleware(settings),
            # After the account is known: tokens are bound to the logged-in session.
            CSRFMiddleware(settings.secret_keys, settings.https, session_config.key),
            # Litestar's `allowed_hosts=` and `compression_config=` would put these two in the same
            # places, innermost, but inside a route's own middleware. Listed here they also run around
            # the verify page's ScanPage (src/routes/verify.py), which answers scans itself.
            DefineMiddleware(
                AllowedHostsMiddleware, config=AllowedHostsConfig(allowed_hosts=settings.host_names)
            ),
            DefineMiddleware(PostSafeCompressionMiddleware, config=COMPRESSION),
        ],
        template_config=template_config,
        plugins=[HTMXPlugin(), FlashPlugin(config=FlashConfig(template_config=template_config))],
        stores=_stores(settings),
        exception_handlers={HTTPException: http_exception_handler, Exception: internal_error_handler},
        request_max_body_size=MAX_BODY,
        # The verifier API's schema, as JSON at /api/v1/openapi.json (no viewer page: it would load
        # scripts from another host).
        openapi_config=OpenAPIConfig(
            title=f"{settings.org_name} verifier API",
            version="1.0.0",
            path="/api/v1",
            render_plugins=[JsonRenderPlugin()],
        ),
        debug=False,
    )
    _link_globals(app, template_config.engine_instance.engine)
    app.state.settings = settings
    app.state.tokens = Tokens(settings.secret_keys)
    app.state.mail_worker = None
    return app
