"""Search over published notebooks and pages, ranked so that title matches come first.

MySQL/MariaDB: InnoDB FULLTEXT in boolean mode requires every word; words InnoDB does not index
(shorter than its minimum token size, longer than its maximum, or stopwords) are matched with LIKE
instead. SQLite: FTS5 with the unicode61 tokenizer, which folds case and accents like the MySQL
`_ci` collation.
A query without any word (only `%`, say) is matched literally with LIKE on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    table,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.db.dialects import is_mysql
from sinpluma_async.db.engines import Database
from sinpluma_async.notebooks.models import Notebook
from sinpluma_async.pages.models import Page
from sinpluma_async.pagination import PageQuery, Slice
from sinpluma_async.search.schemas import Kind, SearchHit
from sinpluma_async.search.snippets import snippet
from sinpluma_async.search.text import like_pattern, words
from sinpluma_async.visibility import notebook_visible_to, page_visible_to

# InnoDB's defaults: innodb_ft_min_token_size, innodb_ft_max_token_size and the built-in stopword list.
INNODB_MIN_TOKEN = 3
INNODB_MAX_TOKEN = 84
INNODB_STOPWORDS = frozenset(
    """a about an are as at be by com de en for from how i in is it la of on or that the this to was
    what when where who will with und www""".split()  # noqa: SIM905
)
TITLE_WEIGHT = 2.0
# Added to the score of a title match, so that every title match ranks above every body match.
TITLE_BONUS = 1000.0


@dataclass(frozen=True)
class Source:
    """A searchable kind of document and where its fields live."""

    kind: Literal["notebook", "page"]
    fts_table: str
    id: Any
    notebook_id: Any
    page_id: Any
    title: Any
    body: Any
    visible: ColumnElement[bool]

    def base(self, *columns: Any) -> Select[Any]:
        query = select(*columns).select_from(Notebook)
        if self.kind == "page":
            query = query.join(Page, Page.notebook_id == Notebook.id)
        return query.where(self.visible)


NOTEBOOKS = Source(
    kind="notebook",
    fts_table="search_notebooks",
    id=Notebook.id,
    notebook_id=Notebook.id,
    page_id=null(),
    title=Notebook.title,
    body=Notebook.resume,
    visible=notebook_visible_to(None),
)
PAGES = Source(
    kind="page",
    fts_table="search_pages",
    id=Page.id,
    notebook_id=Page.notebook_id,
    page_id=Page.id,
    title=Page.published_title,
    body=Page.published_text,
    visible=page_visible_to(None),
)


@dataclass(frozen=True)
class Ranking:
    """How one source matches a query: the filter, whether the title matched, and the score."""

    matches: ColumnElement[bool]
    title_hit: ColumnElement[bool]
    score: ColumnElement[float]


def _like_ranking(source: Source, terms: list[str]) -> Ranking:
    in_title = and_(*(source.title.like(like_pattern(term), escape="\\") for term in terms))
    anywhere = and_(
        *(
            or_(source.title.like(pattern, escape="\\"), source.body.like(pattern, escape="\\"))
            for pattern in map(like_pattern, terms)
        )
    )
    score = case((in_title, literal(TITLE_WEIGHT + 1.0)), else_=literal(1.0))
    return Ranking(anywhere, in_title, score)


def _mysql_ranking(source: Source, terms: list[str]) -> Ranking:
    indexed = [
        term
        for term in terms
        if INNODB_MIN_TOKEN <= len(term) <= INNODB_MAX_TOKEN and term.lower() not in INNODB_STOPWORDS
    ]
    unindexed = [term for term in terms if term not in indexed]
    if not indexed:
        return _like_ranking(source, unindexed)
    required = " ".join(f"+{term}" for term in indexed)
    natural = " ".join(indexed)
    matches = mysql.match(source.title, source.body, against=required).in_boolean_mode()
    title_hit = mysql.match(source.title, against=required).in_boolean_mode() > 0
    score = TITLE_WEIGHT * mysql.match(source.title, against=natural) + mysql.match(
        source.title, source.body, against=natural
    )
    if unindexed:
        short = _like_ranking(source, unindexed)
        return Ranking(and_(matches, short.matches), and_(title_hit, short.title_hit), score)
    return Ranking(matches, title_hit, score)


def _fts5_expression(terms: list[str]) -> str:
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _sqlite_ranking(source: Source, terms: list[str]) -> Ranking:
    expression = _fts5_expression(terms)
    fts = table(source.fts_table, column("rowid"))

    def matching(fts_query: str) -> ColumnElement[bool]:
        return literal_column(source.fts_table).op("MATCH")(literal(fts_query))

    in_any: Select[Any] = select(fts.c.rowid).where(matching(expression))
    in_title: Select[Any] = select(fts.c.rowid).where(matching(f"title : ({expression})"))
    relevance = (
        select(-func.bm25(literal_column(source.fts_table), literal_column(f"{TITLE_WEIGHT * 5}"), 1.0))
        .where(fts.c.rowid == source.id, matching(expression))
        .scalar_subquery()
    )
    matches, title_hit = source.id.in_(in_any), source.id.in_(in_title)
    joined = [term for term in terms if "_" in term]
    if joined:
        # FTS5 splits words at `_` (InnoDB does not), so the phrase for `mi_cuaderno` would also
        # find "mi cuaderno": require such words as written, like MySQL does.
        exact = _like_ranking(source, joined)
        return Ranking(and_(matches, exact.matches), and_(title_hit, exact.title_hit), relevance)
    return Ranking(matches, title_hit, relevance)


def ranking(dialect: str, source: Source, query: str) -> Ranking:
    terms = words(query)
    if not terms:
        return _like_ranking(source, [query])
    return _mysql_ranking(source, terms) if is_mysql(dialect) else _sqlite_ranking(source, terms)


@dataclass(frozen=True)
class _Found:
    """A ranked match, before the page of results it may fall on is cut and its snippet made."""

    kind: Literal["notebook", "page"]
    notebook_id: int
    page_id: int | None
    title: str
    body: str
    score: float

    def hit(self, query: str) -> SearchHit:
        return SearchHit(
            kind=self.kind,
            notebook_id=self.notebook_id,
            page_id=self.page_id,
            title=self.title,
            snippet=snippet(self.body, query),
            score=self.score,
        )


async def _search_source(
    session: AsyncSession, dialect: str, source: Source, query: str, limit: int
) -> tuple[list[_Found], int]:
    rank = ranking(dialect, source, query)
    total = (await session.execute(source.base(func.count()).where(rank.matches))).scalar_one()
    if total == 0 or limit == 0:
        return [], total
    title_hit = rank.title_hit.label("title_hit")
    score = rank.score.label("score")
    rows = (
        await session.execute(
            source.base(source.notebook_id, source.page_id, source.title, source.body, title_hit, score)
            .where(rank.matches)
            .order_by(title_hit.desc(), score.desc(), source.id.desc())
            .limit(limit)
        )
    ).all()
    found = [
        _Found(
            kind=source.kind,
            notebook_id=row[0],
            page_id=row[1],
            title=row[2] or "",
            body=row[3] or "",
            # Not rounded: relevance on a small corpus is tiny (FTS5 clamps a common word's IDF to
            # 1e-6, InnoDB to about 2e-9), and rounding would turn it into 0 and tie every hit.
            score=float(row.score or 0.0) + (TITLE_BONUS if row.title_hit else 0.0),
        )
        for row in rows
    ]
    return found, total


async def search(*, db: Database, query: str, kind: Kind, page: PageQuery) -> Slice[SearchHit]:
    """Published notebooks and pages matching every word of the query, title matches first."""
    sources = {"notebook": [NOTEBOOKS], "page": [PAGES], "all": [NOTEBOOKS, PAGES]}[kind]
    wanted = page.offset + page.per_page
    found: list[_Found] = []
    total = 0
    async with db.snapshot() as session:
        for source in sources:
            matches, count = await _search_source(session, db.dialect, source, query, wanted)
            found.extend(matches)
            total += count
    found.sort(key=lambda match: match.score, reverse=True)
    # Snippets cost most of a search: only the hits of the page asked for get one.
    return Slice([match.hit(query) for match in found[page.offset : wanted]], total)
