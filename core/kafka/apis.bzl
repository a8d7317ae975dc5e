"""The schema files in core/kafka/schemas/, one per API (file name without .ks)."""

KAFKA_APIS = [
    "produce",
    "fetch",
    "metadata",
    "heartbeat",
    "api_versions",
]
