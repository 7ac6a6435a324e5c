"""Idempotent retries: `Idempotency-Key` on the POSTs that create something (API.md).

keys: the header and whose key it is; fingerprints: what a request was, hashed as its body is
read; records: a stored response and the in-flight marker; stores: Redis or this process;
http: the `idempotent` decorator that routes declare.
"""
