"""SQLite's side of the row locks: one writer at a time for the whole database.

PostgreSQL locks the rows a change needs (SELECT … FOR UPDATE). SQLite has no row locks, and
pysqlite starts a transaction only at the first write, after the reads that decide it; so a
service that must read and then write without interleaving takes SQLite's write lock first.
"""

from __future__ import annotations

from ..extensions import db


def sqlite_write_lock() -> bool:
    """On SQLite, hold the database's write lock until the transaction ends (BEGIN IMMEDIATE,
    unless a transaction is already open) and return True; on PostgreSQL do nothing and
    return False, so the caller locks its rows instead."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return False
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    return True
