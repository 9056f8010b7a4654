"""A benchmark's own PostgreSQL database: create it, make Django let go of it, drop it.

Shared by the bench scripts (bench/ is first on sys.path when one runs as a script).

The portal uses Django's connection pool on PostgreSQL (portal/settings.py), so
`connections.close_all()` only hands each connection back to the pool, whose
server sessions stay open and make DROP DATABASE fail ("being accessed by other
users"). close_django_connections() closes the pools too, and drop() forces out
any session left over (WITH (FORCE), PostgreSQL 13+).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

# PostgreSQL 13 added DROP DATABASE ... WITH (FORCE).
FORCE_SINCE = 130000


def database_url(admin_url: str, name: str) -> str:
    """The URL of database `name` on the server of `admin_url` (which ends in /<database>)."""
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def create(admin_url: str, name: str) -> str:
    """A fresh, empty database `name` (any earlier one is dropped); returns its URL."""
    drop(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(admin_url, name)


def drop(admin_url: str, name: str) -> None:
    """Drop database `name` if it exists, ending any session still connected to it."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        statement = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        if connection.info.server_version >= FORCE_SINCE:
            statement = sql.SQL("{} WITH (FORCE)").format(statement)
        connection.execute(statement)


def close_django_connections() -> None:
    """Close this process's Django connections and their pools' server sessions."""
    from django.conf import settings

    if not settings.configured:
        return  # Django never started: no connection to close
    from django.db import connections

    connections.close_all()  # with a pool: back to the pool, still open on the server
    for connection in connections.all(initialized_only=True):
        close_pool = getattr(connection, "close_pool", None)  # PostgreSQL backend only
        if close_pool is not None:
            close_pool()
