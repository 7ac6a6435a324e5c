"""The whole schema: every domain's tables on the one MetaData, for the app, migrations and tests.

It lives above the domains, so that the database package never imports them.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from sinpluma_async.auth import models as _auth
from sinpluma_async.db.schema import Base
from sinpluma_async.genres import models as _genres
from sinpluma_async.images import models as _images
from sinpluma_async.notebooks import models as _notebooks
from sinpluma_async.pages import models as _pages
from sinpluma_async.readings import models as _readings
from sinpluma_async.users import models as _users

DOMAIN_MODELS = (_auth, _genres, _images, _notebooks, _pages, _readings, _users)


def load_models() -> MetaData:
    """The MetaData describing every table of the service."""
    return Base.metadata
