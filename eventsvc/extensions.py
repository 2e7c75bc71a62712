"""Flask extensions, created unbound and initialised in create_app()."""

import ipaddress
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar, cast

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import CursorResult, Executable, Insert, Row, Table, insert
from sqlalchemy.orm import make_transient_to_detached

from .models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def rows_matched(statement: Executable, params: Mapping[str, Any] | None = None) -> int:
    """Run an INSERT, UPDATE or DELETE in the session and return how many rows it matched. The
    session types every result as a Result; a statement without RETURNING gives a
    CursorResult, which has the count."""
    result = cast("CursorResult[Any]", db.session.execute(statement, params))
    return result.rowcount


_Model = TypeVar("_Model", bound=Base)


def insert_loaded(model: type[_Model], values: Mapping[str, Any]) -> _Model:
    """Insert one row of `model` with a plain INSERT … RETURNING on the session's connection and
    return it as an object of the session, as if just loaded (column defaults applied, no
    history, relationships loaded when read). No unit-of-work flush and none of its hooks
    (before_flush, before_insert) run: for the hot paths, where a flush costs more CPU than
    the statements themselves (docs/PERFORMANCE.md); their callers do what the hooks would.
    Nothing pending is flushed first: what the row refers to must be stored already."""
    row = db.session.connection().execute(_insert_returning(model), dict(values)).one()
    return as_loaded(model, row)


def as_loaded(model: type[_Model], row: Row[Any]) -> _Model:
    """A row of `model`'s table (all its columns) as an object of the session, as if loaded."""
    instance = model(**row._asdict())
    make_transient_to_detached(instance)  # as loaded: nothing for a flush to write
    db.session.add(instance)
    return instance


@cache
def _insert_returning(model: type[Base]) -> Insert:
    table = cast(Table, model.__table__)
    return insert(table).returning(*table.c)


def client_network() -> str:
    """Who a rate limit counts: the client's IPv4 address, or its IPv6 /64 network. One home
    or phone connection gets a whole /64 and can use any of its 2^64 addresses, so counting
    single IPv6 addresses would let it past every limit."""
    address = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:  # IPv4 seen through an IPv6 socket
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


# Storage from RATELIMIT_STORAGE_URI: memory:// for one process, redis://… when several
# app processes must share the counts.
limiter = Limiter(key_func=client_network)
