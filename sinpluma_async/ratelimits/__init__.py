"""Rate limits (API.md, "Rate limits"): every route's policy, counted in Redis or in this process.

policies: the table of policies, their defaults and SINPLUMA_RATE_LIMITS; counting: what is
counted and what a count says; memory: the moving window in this process; shared: the same window
in Redis, in the round trip that checks a token's revocations, with this process's memory while
Redis is down; limiter: what a process runs with; http: each route's policy, its 429 and its
headers; login: the three login policies.
"""
