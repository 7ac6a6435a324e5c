from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from sinpluma_async.contract import RequestBody, Timestamp
from sinpluma_async.ids import EntityId
from sinpluma_async.notebooks.schemas import NotebookRead

NotebookId = EntityId


class ReadingCreate(RequestBody):
    notebook_id: NotebookId


class ReadingRemove(RequestBody):
    notebook_id: NotebookId


class ReadingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notebook_id: NotebookId | None = None


class Following(BaseModel):
    """The caller now follows this notebook."""

    notebook_id: int
    followed_at: Timestamp


class ReadingRead(BaseModel):
    notebook: NotebookRead
    followed_at: Timestamp
