"""Object storage: MinIO/S3 when configured (s3.py, the only importer of the S3 client), a local
directory otherwise (local.py); objects.py is what both offer. Both take a stream of chunks, so an
upload is never held whole in memory here (the S3 client buffers at most one part, and at most two
uploads to S3 run at once)."""
