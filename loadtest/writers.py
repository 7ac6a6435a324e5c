"""Writers over REST: sign in, make a notebook and pages, autosave every 2 s with If-Match."""

from __future__ import annotations

import io
import random
from functools import cache

import gevent
from locust import constant_pacing
from locust.contrib.fasthttp import FastHttpSession, FastHttpUser
from PIL import Image

from loadtest.content import Draft
from loadtest.options import fixtures_of
from loadtest.session import Session, next_account

SAVE_PERIOD_SECONDS = 2.0
PAGES_AT_START = 3
# Chances per save, as the app's writers do them now and then.
MOVE_TO_ANOTHER_PAGE = 1 / 20
NEW_PAGE = 1 / 60
PUBLISH = 1 / 30
UPLOAD_COVER = 1 / 120


@cache
def cover_png() -> bytes:
    """A 600x900 cover, as a writer would upload it."""
    output = io.BytesIO()
    Image.effect_noise((600, 900), 64).convert("RGB").save(output, format="PNG")
    return output.getvalue()


class Desk:
    """A writer's notebook and pages, made over REST at the start, and the version of each page."""

    def __init__(self, client: FastHttpSession, session: Session, rng: random.Random) -> None:
        self.client, self.session, self.rng = client, session, rng
        body = {"title": "Borrador", "genre_id": rng.randint(1, 10), "resume": "En curso"}
        created = client.post("/notebooks/", headers=session.headers, json=body, name="/notebooks/")
        created.raise_for_status()
        self.notebook_id: int = created.json()["notebook_id"]
        self.versions: dict[int, int] = {}
        for _ in range(PAGES_AT_START):
            self.new_page()
        self.page_id = next(iter(self.versions))
        self.draft = Draft(rng.getrandbits(32))

    def new_page(self) -> int:
        body = {"notebook_id": self.notebook_id, "title": f"Capítulo {len(self.versions) + 1}"}
        created = self.client.post("/pages/", headers=self.session.headers, json=body, name="/pages/")
        created.raise_for_status()
        page = created.json()
        self.versions[page["page_id"]] = page["version"]
        return int(page["page_id"])

    def open_page(self, page_id: int) -> None:
        """Load a page in the editor (again, after a 412 or a new socket): its version comes with it."""
        response = self.client.get(
            f"/pages/{page_id}?mode=editor", headers=self.session.headers, name="/pages/[id] (editor)"
        )
        if response.status_code == 200:
            self.versions[page_id] = response.json()["version"]
            if page_id != self.page_id:
                self.page_id, self.draft = page_id, Draft(self.rng.getrandbits(32))

    def now_and_then(self) -> None:
        """What a writer does between saves, each once in a while."""
        if self.rng.random() < NEW_PAGE:
            self.open_page(self.new_page())
        elif self.rng.random() < MOVE_TO_ANOTHER_PAGE:
            self.open_page(self.rng.choice(list(self.versions)))
        if self.rng.random() < PUBLISH:
            self.client.post(
                f"/pages/{self.page_id}/publish", headers=self.session.headers, name="/pages/[id]/publish"
            )
        if self.rng.random() < UPLOAD_COVER:
            self.client.post(
                f"/notebooks/{self.notebook_id}/image/",
                data=cover_png(),
                headers={**self.session.headers, "Content-Type": "image/png"},
                name="/notebooks/[id]/image/",
            )


def sign_in(user: FastHttpUser) -> Session:
    """Wait a random part of the save period, so that users never save in lockstep, then log in."""
    gevent.sleep(random.uniform(0, SAVE_PERIOD_SECONDS))
    fixtures = fixtures_of(user.environment)
    session = Session(user.client, renew_after=user.environment.parsed_options.token_renewal)
    session.login(next_account(user.environment, fixtures), fixtures["password"])
    return session


class Writer(FastHttpUser):
    """The app's editor over REST: PUT /pages/<id> every 2 s with If-Match; a 412 reloads the page."""

    wait_time = constant_pacing(SAVE_PERIOD_SECONDS)
    weight = 2

    def on_start(self) -> None:
        self.session = sign_in(self)
        self.desk = Desk(self.client, self.session, random.Random())

    def on_stop(self) -> None:
        self.session.logout()

    def autosave(self) -> None:
        self.session.renew_if_due()
        self.desk.now_and_then()
        page_id = self.desk.page_id
        with self.client.put(
            f"/pages/{page_id}",
            json={"content": self.desk.draft.next()},
            headers={**self.session.headers, "If-Match": f'"{self.desk.versions[page_id]}"'},
            name="/pages/[id]",
            catch_response=True,
        ) as response:
            if response.status_code == 412:
                response.success()  # another tab saved first: the app reloads, as below
                self.desk.open_page(page_id)
            elif response.status_code == 200:
                self.desk.versions[page_id] = response.json()["version"]

    tasks = [autosave]
