"""The one Redis client of a process: a single server (`redis://`, `rediss://`, `unix://`) or the
master that Redis Sentinel names (`redis+sentinel://`).

sentinel_url: the Sentinel form of SINPLUMA_REDIS_URL, parsed and checked in one place;
connections: the client, its bounded waits and pool, and connections whose reset is a RedisError.
"""
