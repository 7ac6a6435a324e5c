"""The whole data model, and the ten genres.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import sinpluma_async.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENRES = (
    "Acción y aventura",
    "Antologías",
    "Ciencia ficción",
    "Cuentos",
    "Ensayos",
    "Fantasía",
    "Ficción",
    "Poesía",
    "Teatro",
    "Terror",
)


def upgrade() -> None:
    genres = op.create_table(
        "genres",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_genres")),
        sa.UniqueConstraint("name", name=op.f("uq_genres_name")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "images",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("created_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sa.UniqueConstraint("object_key", name=op.f("uq_images_object_key")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "users",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column(
            "username",
            sa.String(length=30).with_variant(sa.String(length=30, collation="NOCASE"), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "email",
            sa.String(length=254).with_variant(sa.String(length=254, collation="NOCASE"), "sqlite"),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=True),
        sa.Column("bio", sa.String(length=500), nullable=False),
        sa.Column("avatar_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["avatar_id"], ["images.id"], name=op.f("fk_users_avatar_id_images"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("refresh_jti", sa.String(length=32), nullable=False),
        sa.Column("created_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.Column("refreshed_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sinpluma_async.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "notebooks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("genre_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("resume", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cover_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.Column("published_at", sinpluma_async.db.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'published')", name=op.f("ck_notebooks_status")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_notebooks_author_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cover_id"], ["images.id"], name=op.f("fk_notebooks_cover_id_images"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["genre_id"], ["genres.id"], name=op.f("fk_notebooks_genre_id_genres"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notebooks")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("notebooks", schema=None) as batch_op:
        batch_op.create_index("ix_notebooks_author_id_updated_at", ["author_id", "updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notebooks_genre_id"), ["genre_id"], unique=False)
        batch_op.create_index("ix_notebooks_status_updated_at", ["status", "updated_at"], unique=False)

    op.create_table(
        "pages",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("notebook_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column(
            "content",
            sa.Text().with_variant(mysql.MEDIUMTEXT(), "mariadb").with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_title", sa.String(length=100), nullable=True),
        sa.Column(
            "published_content",
            sa.Text().with_variant(mysql.MEDIUMTEXT(), "mariadb").with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("published_at", sinpluma_async.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notebook_id"], ["notebooks.id"], name=op.f("fk_pages_notebook_id_notebooks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("notebook_id", "position", name=op.f("uq_pages_notebook_id_position")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "readings",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("notebook_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("followed_at", sinpluma_async.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notebook_id"],
            ["notebooks.id"],
            name=op.f("fk_readings_notebook_id_notebooks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_readings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "notebook_id", name=op.f("pk_readings")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_readings_notebook_id"), ["notebook_id"], unique=False)
        batch_op.create_index("ix_readings_user_id_followed_at", ["user_id", "followed_at"], unique=False)

    op.bulk_insert(genres, [{"name": name} for name in GENRES])


def downgrade() -> None:
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.drop_index("ix_readings_user_id_followed_at")
        batch_op.drop_index(batch_op.f("ix_readings_notebook_id"))

    op.drop_table("readings")
    op.drop_table("pages")
    with op.batch_alter_table("notebooks", schema=None) as batch_op:
        batch_op.drop_index("ix_notebooks_status_updated_at")
        batch_op.drop_index(batch_op.f("ix_notebooks_genre_id"))
        batch_op.drop_index("ix_notebooks_author_id_updated_at")

    op.drop_table("notebooks")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_user_id"))

    op.drop_table("auth_sessions")
    op.drop_table("users")
    op.drop_table("images")
    op.drop_table("genres")
