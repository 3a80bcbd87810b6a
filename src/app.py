"""create_app(settings): the whole portal as one Litestar app, configured only from Settings; it only
composes (templates: src/templating.py, compression: src/compression.py, routes: src/routes/)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from litestar import Litestar
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.allowed_hosts import AllowedHostsMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from src import db, documents, templating
from src.assets import STATIC
from src.auth import AccountMiddleware
from src.clock import today_in
from src.compression import COMPRESSION, PostSafeCompressionMiddleware, warm_static
from src.connections import send_reminders, send_weekly_views
from src.documents import send_validity_reminders
from src.jobs import PeriodicJob
from src.mail import MailWorker
from src.routes import EXCEPTION_HANDLERS, all_route_handlers, schema_router
from src.security import CSRFMiddleware, SecurityMiddleware, cookie_name
from src.server import Readiness, close_when_stopping
from src.sessions import RotatingSessionConfig, SessionFileStore, SessionRedisStore
from src.settings import Settings
from src.tokens import Tokens

MAX_BODY = 64 * 1024  # forms are small; anything bigger is refused with 413 before parsing
log = logging.getLogger("portal")


def _stores(settings: Settings, redis: Redis | None) -> dict[str, Store]:
    if redis is not None:
        root = RedisStore(redis, namespace="portal", handle_client_shutdown=True)
        # The sessions' store reads a session and its "ended" marker in one round trip.
        sessions = SessionRedisStore(redis, namespace="portal_sessions", handle_client_shutdown=True)
        return {"sessions": sessions, "throttle": root.with_namespace("throttle")}
    base = settings.var_dir / "store"
    return {
        "sessions": SessionFileStore(base / "sessions", create_directories=True),
        "throttle": FileStore(base / "throttle", create_directories=True),
    }


def db_timeouts(settings: Settings) -> db.Timeouts:
    """The bounds on a request's waits for the database (src/db/pool.py), from the settings."""
    return db.Timeouts(statement=settings.db_statement_timeout, acquire=settings.db_acquire_timeout)


def reminder_job(settings: Settings) -> PeriodicJob:
    """The job that emails "access ends in 7 days" and "access has ended" (connections), a document's
    "valid until" day coming and passed (documents), and the weekly count of views some learners ask for."""

    async def remind() -> None:
        day = today_in(settings.tz)
        await send_reminders(day)
        await send_validity_reminders(day)
        await send_weekly_views(day, settings.tz)

    return PeriodicJob("reminders", settings.reminder_interval_seconds, remind)


def create_app(settings: Settings) -> Litestar:
    template_config = templating.template_config(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        opened_pool = await db.open_pool(settings.db_pool_min, settings.db_pool_max, db_timeouts(settings))
        # Static files compressed once per release, kept under var/ for every later start.
        await anyio.to_thread.run_sync(warm_static, settings.var_dir / "compressed-static")
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
                await worker.stop(settings.shutdown_grace_seconds)
            if opened_pool:
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
    # One client for the stores and the readiness check (/readyz pings the server the stores use).
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
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
        stores=_stores(settings, redis),
        # Error pages, and problem details under /api/ (the router raises some before any route).
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY,
        # The verifier API's schema, as JSON at /api/v1/openapi.json (no viewer page: it would load
        # scripts from another host).
        openapi_config=OpenAPIConfig(
            title=f"{settings.org_name} verifier API",
            version="1.0.0",
            path="/api/v1",
            render_plugins=[JsonRenderPlugin()],
            openapi_router=schema_router("/api/v1"),
        ),
        # Once SIGTERM came (src/server/), every response ends its connection.
        before_send=[close_when_stopping],
        debug=False,
    )
    templating.link_globals(app, template_config.engine_instance.engine)
    app.state.settings = settings
    app.state.tokens = Tokens(settings.secret_keys)
    app.state.signing_keys = documents.SigningKeys(settings.signing_keys)  # verify receipts
    app.state.mail_worker = None
    app.state.readiness = Readiness(redis)
    return app
