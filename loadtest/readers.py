"""Anonymous readers: the public list, a notebook and its pages in order, search, an author."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import between
from locust.contrib.fasthttp import FastHttpUser

from loadtest.content import SEARCH_TERMS
from loadtest.options import fixtures_of

READING_SECONDS = (0.5, 2.0)
SEARCHES = 1 / 3


class Reader(FastHttpUser):
    """Browses published notebooks as the app does, revalidating what it read before with
    If-None-Match (a 304 has no body), so a reader coming back costs what a browser's would."""

    wait_time = between(1, 3)
    weight = 6

    def on_start(self) -> None:
        self.etags: dict[str, str] = {}
        self.bodies: dict[str, Any] = {}
        self.rng = random.Random()
        self.searched = False

    def read(self, path: str, name: str) -> Any:
        """GET `path`, conditional when it was read before; its body, fresh or remembered."""
        headers = {"If-None-Match": self.etags[path]} if path in self.etags else {}
        response = self.client.get(path, headers=headers, name=name)
        if response.status_code == 304:
            return self.bodies.get(path)
        if response.status_code != 200:
            return None
        body = response.json()
        if etag := response.headers.get("ETag"):
            self.etags[path], self.bodies[path] = etag, body
        return body

    def notebook_ids(self) -> list[int]:
        listing = self.client.get(
            f"/notebooks/?scope=public&per_page=20&page={self.rng.randint(1, 2)}",
            name="/notebooks/?scope=public",
        )
        items = listing.json()["items"] if listing.status_code == 200 else []
        return [item["notebook_id"] for item in items] or fixtures_of(self.environment)["notebooks"]

    def visit(self) -> None:
        """One visit: a notebook chosen from the public list, read page by page, then its author."""
        notebook = self.read(f"/notebooks/{self.rng.choice(self.notebook_ids())}", "/notebooks/[id]")
        if notebook is None:
            return
        for page in notebook["pages"]:
            self.read(f"/pages/{page['page_id']}", "/pages/[id] (reader)")
            gevent.sleep(self.rng.uniform(*READING_SECONDS))
        self.client.get(f"/user/{notebook['author']['username']}", name="/user/[username]")

    def search(self) -> None:
        query = " ".join(self.rng.sample(SEARCH_TERMS, self.rng.randint(1, 2)))
        parameters = urlencode({"q": query, "kind": self.rng.choice(("all", "page"))})
        self.client.get(f"/search?{parameters}", name="/search")

    def browse(self) -> None:
        """A search, one time in three, else a visit; a reader's first call is a search, as it lands
        on the app's search page."""
        if not self.searched or self.rng.random() < SEARCHES:
            self.searched = True
            self.search()
        else:
            self.visit()

    tasks = [browse]
