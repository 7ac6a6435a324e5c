"""Read-your-writes (API.md, "Read replicas"): after a user's write, that user's reads go to the
writer for SINPLUMA_READ_YOUR_WRITES_SECONDS, on every process.

recent: who wrote recently, in Redis (a key per user with a TTL) or in this process;
http: every successful write is recorded. The flag is read in the round trip that checks the
token's revocations, and `db/routing.py` sends the request's reads where it says.
"""
