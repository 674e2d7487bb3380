"""The Docker Engine API versions Dockyard speaks: one place for the CLI and the daemon."""

MIN_API_VERSION = "1.24"
MAX_API_VERSION = "1.50"  # what docker CLI 28.2 speaks
