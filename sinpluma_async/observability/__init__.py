"""What an operator sees of the service: request ids, the access log, and the Prometheus series."""
