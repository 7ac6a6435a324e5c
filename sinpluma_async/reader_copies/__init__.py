"""Reader copies: each process keeps the reader-mode answers of the pages it served, and serves one
again only while its notebook's generation is the one it was read under.

generations: a notebook's generation, in Redis (read in the round trip that checks the caller's
token) or in this process; a write that changes what a reader of the notebook sees starts a new
one once it has committed. copies: the answers kept, by page, within a budget of bytes.
"""
