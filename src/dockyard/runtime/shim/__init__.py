"""The shim: a small per-container monitor that outlives the CLI and the daemon.

Run as ``python -m dockyard.runtime.shim --ready-fd N STATE_DIR``; ``client.start_shim`` does
that for you. It daemonizes, spawns the command in ``STATE_DIR/shim.json``, copies its output to
the json-file log, serves ``attach.sock``, reaps the init, writes ``exit.json``, restarts per
policy and runs health checks. See README.md for why it is built the way it is.

Nothing is imported here: the shim's memory and start-up stay small.
"""
