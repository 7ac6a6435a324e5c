"""Reading profiles: the one query that joins a user with their published-notebook count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.notebooks.models import Notebook
from sinpluma_async.users.models import User
from sinpluma_async.users.schemas import UserPrivate
from sinpluma_async.visibility import notebook_visible_to


def profile_image_url(user: User) -> str | None:
    return f"/user/{user.username}/image/" if user.avatar_id is not None else None


def profile_query(*conditions: Any) -> Select[User, int]:
    """Users matching the conditions, each with the number of notebooks they have published."""
    published = (
        select(func.count(Notebook.id))
        .where(Notebook.author_id == User.id, notebook_visible_to(None))
        .scalar_subquery()
    )
    return select(User, published).where(*conditions)


def private_profile(user: User, notebook_count: int) -> UserPrivate:
    return UserPrivate(
        user_id=user.id,
        username=user.username,
        email=user.email,
        display_name=user.display_name,
        bio=user.bio,
        created_at=user.created_at,
        image_url=profile_image_url(user),
        notebook_count=notebook_count,
    )


async def load_private_profile(session: AsyncSession, user_id: int) -> UserPrivate:
    user, notebook_count = (await session.execute(profile_query(User.id == user_id))).one()
    return private_profile(user, notebook_count)
