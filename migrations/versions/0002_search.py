"""Search: the plain text of published pages, FULLTEXT indexes on MySQL, FTS5 on SQLite.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One index over title and body finds documents holding every word anywhere; one over the title
# alone tells title matches apart, which rank first.
FULLTEXT_INDEXES = {
    "ft_pages_published": ("pages", ["published_title", "published_text"]),
    "ft_pages_published_title": ("pages", ["published_title"]),
    "ft_notebooks_search": ("notebooks", ["title", "resume"]),
    "ft_notebooks_title": ("notebooks", ["title"]),
}

# SQLite keeps FTS5 copies of what is searchable, maintained by triggers so that no write path
# can forget them: published pages (title and text) and every notebook (title and resume).
SQLITE_SEARCH = """
CREATE VIRTUAL TABLE search_pages USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE search_notebooks USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO search_notebooks (rowid, title, body) SELECT id, title, resume FROM notebooks;
INSERT INTO search_pages (rowid, title, body)
    SELECT id, published_title, published_text FROM pages WHERE published = 1;
CREATE TRIGGER search_pages_insert AFTER INSERT ON pages WHEN new.published = 1 BEGIN
    INSERT INTO search_pages (rowid, title, body) VALUES (new.id, new.published_title, new.published_text);
END;
CREATE TRIGGER search_pages_update AFTER UPDATE OF published, published_title, published_text ON pages BEGIN
    DELETE FROM search_pages WHERE rowid = old.id;
    INSERT INTO search_pages (rowid, title, body)
        SELECT new.id, new.published_title, new.published_text WHERE new.published = 1;
END;
CREATE TRIGGER search_pages_delete AFTER DELETE ON pages BEGIN
    DELETE FROM search_pages WHERE rowid = old.id;
END;
CREATE TRIGGER search_notebooks_insert AFTER INSERT ON notebooks BEGIN
    INSERT INTO search_notebooks (rowid, title, body) VALUES (new.id, new.title, new.resume);
END;
CREATE TRIGGER search_notebooks_update AFTER UPDATE OF title, resume ON notebooks BEGIN
    DELETE FROM search_notebooks WHERE rowid = old.id;
    INSERT INTO search_notebooks (rowid, title, body) VALUES (new.id, new.title, new.resume);
END;
CREATE TRIGGER search_notebooks_delete AFTER DELETE ON notebooks BEGIN
    DELETE FROM search_notebooks WHERE rowid = old.id;
END;
"""
SQLITE_SEARCH_DROP = """
DROP TRIGGER IF EXISTS search_pages_insert;
DROP TRIGGER IF EXISTS search_pages_update;
DROP TRIGGER IF EXISTS search_pages_delete;
DROP TRIGGER IF EXISTS search_notebooks_insert;
DROP TRIGGER IF EXISTS search_notebooks_update;
DROP TRIGGER IF EXISTS search_notebooks_delete;
DROP TABLE IF EXISTS search_pages;
DROP TABLE IF EXISTS search_notebooks;
"""


def _statements(script: str) -> list[str]:
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        joined = "\n".join(current).strip()
        if joined.endswith(";") and (
            not joined.upper().startswith("CREATE TRIGGER") or joined.endswith("END;")
        ):
            statements.append(joined)
            current = []
    return statements


def upgrade() -> None:
    long_text = (
        sa.Text().with_variant(mysql.MEDIUMTEXT(), "mariadb").with_variant(mysql.MEDIUMTEXT(), "mysql")
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_text", long_text, nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        for name, (table, columns) in FULLTEXT_INDEXES.items():
            op.create_index(name, table, columns, mysql_prefix="FULLTEXT")
    elif dialect == "sqlite":
        for statement in _statements(SQLITE_SEARCH):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        for name, (table, _) in FULLTEXT_INDEXES.items():
            op.drop_index(name, table_name=table)
    elif dialect == "sqlite":
        for statement in _statements(SQLITE_SEARCH_DROP):
            op.execute(statement)
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("published_text")
