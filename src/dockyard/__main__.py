"""``python -m dockyard``: the same entry point as the ``dockyard`` console script."""

from dockyard.cli.main import console_main

if __name__ == "__main__":
    console_main()
