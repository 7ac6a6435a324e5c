"""Load tests with locust: the single-page app's readers, REST writers and socket editors.

`make loadtest` runs them (docs/loadtest.md); `loadtest/locustfile.py` is what locust loads.
"""
