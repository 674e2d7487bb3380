"""State the CLI group hands to its commands: the engine, built once and only when needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from dockyard.service.engine import Engine

__all__ = ["CliState", "engine"]


@dataclass
class CliState:
    root: str | None = None
    debug: bool = False
    _engine: Engine | None = field(default=None, repr=False)

    def engine(self) -> Engine:
        if self._engine is None:
            from dockyard.service.engine import Engine
            from dockyard.service.settings import Settings

            self._engine = Engine(Settings.resolve(self.root))
        return self._engine


def engine() -> Engine:
    """The engine of the running command (built on first use)."""
    state = click.get_current_context().find_object(CliState)
    if state is None:  # a command invoked outside the group (tests)
        state = CliState()
    return state.engine()
