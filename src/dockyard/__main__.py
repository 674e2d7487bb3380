"""``python -m dockyard``: the same entry point as the ``dockyard`` console script."""

from dockyard.cli.main import main

if __name__ == "__main__":
    main()
