"""What an operator sees of a running Nabla: Prometheus metrics (``metrics``) and structured logs with request ids
(``logs``)."""
