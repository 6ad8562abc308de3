"""A small MCP server over a SQLite file of sample data, for notebooks/06-mcp.ipynb.

    python mcp_servers/sample_data.py [DATABASE]      (stdio; DATABASE defaults to sample.sqlite)

On first run it creates DATABASE with two tables (customers, orders) of made-up rows. Its tools
only read: `list_tables`, `describe` (a table's columns), and `query` (one SELECT statement; the
file is opened read-only, so nothing else could change it either). Each is marked read-only, so
`%oai mcp add ... --approve read-only` runs them without asking.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

DATABASE = Path(sys.argv[1] if len(sys.argv) > 1 else "sample.sqlite").resolve()
MAX_ROWS = 100
READ_ONLY = ToolAnnotations(read_only_hint=True)

CUSTOMERS = [(1, "Ana Silva", "Lisbon", "south"), (2, "Bruno Costa", "Porto", "north"),
             (3, "Carla Dias", "Faro", "south"), (4, "Duarte Reis", "Braga", "north"),
             (5, "Eva Lopes", "Coimbra", "centre")]
ORDERS = [(101, 1, "2026-01-05", 120.50), (102, 2, "2026-01-09", 80.00), (103, 1, "2026-02-11", 45.25),
          (104, 3, "2026-02-14", 210.00), (105, 4, "2026-03-02", 99.90), (106, 5, "2026-03-18", 150.00),
          (107, 2, "2026-03-21", 60.10), (108, 5, "2026-04-02", 30.00)]

server = MCPServer("sample-data", instructions="Read-only SQL over a small sample database of customers and orders.")


def create() -> None:
    """The sample database, made once."""
    with sqlite3.connect(DATABASE) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT, region TEXT)")
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), "
                   "ordered_on TEXT, amount REAL)")
        db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", CUSTOMERS)
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", ORDERS)


def connect() -> sqlite3.Connection:
    return sqlite3.connect(f"{DATABASE.as_uri()}?mode=ro", uri=True)


@server.tool(annotations=READ_ONLY)
def list_tables() -> str:
    """The tables of the sample database, one per line."""
    with connect() as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    return "\n".join(name for (name,) in rows)


@server.tool(annotations=READ_ONLY)
def describe(table: str) -> str:
    """A table's columns and their types, as JSON."""
    with connect() as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
            raise ToolError(f"no table named {table!r}; see list_tables")
        columns = db.execute(f'PRAGMA table_info("{table}")').fetchall()
    return json.dumps([{"column": c[1], "type": c[2], "primary_key": bool(c[5])} for c in columns])


@server.tool(annotations=READ_ONLY)
def query(sql: str) -> str:
    """Run one read-only SQL SELECT statement; the rows as JSON objects (at most 100)."""
    if not sql.lstrip().lower().startswith(("select", "with")):
        raise ToolError("only SELECT statements are allowed")
    try:
        with connect() as db:
            cursor = db.execute(sql)
            names = [d[0] for d in cursor.description or []]
            rows = cursor.fetchmany(MAX_ROWS)
    except sqlite3.Error as exc:
        raise ToolError(f"SQLite: {exc}") from None
    return json.dumps([dict(zip(names, row)) for row in rows])


if __name__ == "__main__":
    if not DATABASE.exists():
        create()
    server.run()
