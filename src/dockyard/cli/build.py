"""``dockyard build`` and ``dockyard builder prune``: thin shells over ``service.build``.

The context is a directory, ``-`` (a tar, or a bare Dockerfile, on stdin), or an http(s) URL
of a tar. Progress goes to stderr: BuildKit's plain lines, or a live compact view on a
terminal (``--progress=auto|tty``, rich imported only then). The image id goes to stdout
with ``-q``. A failed step exits 1, as ``docker build`` does.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import IO, Any

import click

from dockyard import errors
from dockyard.cli._context import engine

__all__ = ["build_cmd", "builder_group"]


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    import os

    out: dict[str, str] = {}
    for value in values:
        key, has, val = value.partition("=")
        if not key:
            raise errors.InvalidArgument(f"invalid {what}: {value!r}")
        if has:
            out[key] = val
        elif key in os.environ:  # --build-arg NAME takes the value from the environment
            out[key] = os.environ[key]
    return out


def _secrets(values: tuple[str, ...], temp: list[Path]) -> dict[str, Path]:
    """``--secret id=NAME,src=PATH`` or ``id=NAME,env=VAR`` (written to a 0600 temp file, whose
    path is added to ``temp`` for the caller to remove)."""
    import os
    import tempfile

    out: dict[str, Path] = {}
    for value in values:
        fields = dict(p.partition("=")[::2] for p in value.split(","))
        ident = fields.get("id", "")
        src = fields.get("src") or fields.get("source")
        env = fields.get("env")
        if ident and not src and not env:
            env = ident if ident in os.environ else None
        if not ident or not (src or env):
            raise errors.InvalidArgument(
                f"invalid secret {value!r}: want id=NAME,src=PATH or env=VAR"
            )
        if env is not None and not src:
            if env not in os.environ:
                raise errors.NotFound(f"secret {ident}: environment variable {env} is not set")
            fd, name = tempfile.mkstemp(prefix="dockyard-secret-")
            temp.append(Path(name))
            with os.fdopen(fd, "w") as f:
                f.write(os.environ[env])
            out[ident] = Path(name)
            continue
        path = Path(str(src)).absolute()
        if not path.is_file():
            raise errors.NotFound(f"secret {ident}: no such file {src}")
        out[ident] = path
    return out


def _context(path: str) -> tuple[Path | None, IO[bytes] | None, str | None]:
    """``(directory, tar stream, Dockerfile text)`` for the PATH argument."""
    if path == "-":
        data = sys.stdin.buffer.read()
        if (len(data) >= 262 and data[257:262] == b"ustar") or data[:2] == b"\x1f\x8b":
            return None, io.BytesIO(data), None
        return None, None, data.decode()
    if path.startswith(("http://", "https://")):
        import urllib.request

        try:
            with urllib.request.urlopen(path, timeout=60) as response:
                return None, io.BytesIO(response.read()), None
        except OSError as exc:
            raise errors.Unavailable(f"unable to download remote context {path}: {exc}") from exc
    directory = Path(path)
    if not directory.is_dir():
        raise errors.NotFound(f'unable to prepare context: path "{path}" not found')
    return directory.absolute(), None, None


def _progress(mode: str, quiet: bool) -> Any:
    from dockyard.build.progress import NullProgress, PlainProgress

    if quiet:
        return NullProgress()
    if mode == "tty" or (mode == "auto" and sys.stderr.isatty()):
        from dockyard.build.progress_tty import TtyProgress

        return TtyProgress()
    return PlainProgress(sys.stderr)


def _close(progress: Any) -> None:
    close = getattr(progress, "close", None)
    if close is not None:
        close()


@click.command("build")
@click.argument("path")
@click.option(
    "-f", "--file", "dockerfile", help="Name of the Dockerfile (default PATH/Dockerfile)."
)
@click.option("-t", "--tag", "tags", multiple=True, help="Name and optionally a tag (name:tag).")
@click.option("--build-arg", "build_args", multiple=True, help="Set build-time variables.")
@click.option("--target", help="Set the target build stage to build.")
@click.option("--no-cache", is_flag=True, help="Do not use cache when building the image.")
@click.option("--pull", is_flag=True, help="Always attempt to pull a newer version of the image.")
@click.option("--label", "labels", multiple=True, help="Set metadata for an image.")
@click.option(
    "-q", "--quiet", is_flag=True, help="Suppress the build output and print image ID on success."
)
@click.option("--iidfile", type=click.Path(dir_okay=False), help="Write the image ID to the file.")
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    help="Secret to expose to the build (id=mysecret,src=/local/secret).",
)
@click.option("--platform", help="Set target platform for build.")
@click.option(
    "--progress",
    "progress_mode",
    type=click.Choice(["auto", "plain", "tty", "quiet"]),
    default="auto",
    show_default=True,
    help="Type of progress output.",
)
@click.option("--network", help="Networking mode for RUN steps: default (host) or none.")
def build_cmd(path: str, dockerfile: str | None, tags: tuple[str, ...], build_args: tuple[str, ...],
              target: str | None, no_cache: bool, pull: bool, labels: tuple[str, ...], quiet: bool,
              iidfile: str | None, secrets: tuple[str, ...], platform: str | None,
              progress_mode: str, network: str | None) -> None:  # fmt: skip
    """Build an image from a Dockerfile."""
    from dockyard.build.executor import BuildFailed
    from dockyard.service.build import BuildImageRequest, build_image

    temp: list[Path] = []
    directory, tar, text = _context(path)
    if dockerfile == "-":
        text = sys.stdin.read()
        dockerfile = None
    request = BuildImageRequest(
        context_dir=directory, context_tar=tar, dockerfile=dockerfile, dockerfile_text=text,
        tags=list(tags), build_args=_pairs(build_args, "build-arg"), target=target,
        no_cache=no_cache, pull=pull, labels=_pairs(labels, "label"), secrets=_secrets(secrets, temp),
        platform=platform, network=network or "default",
    )  # fmt: skip
    progress = _progress(progress_mode, quiet or progress_mode == "quiet")
    try:
        result = build_image(engine(), request, progress)
    except (BuildFailed, errors.InvalidArgument, errors.NotFound, errors.DigestMismatch) as exc:
        _close(progress)  # what docker build reports as a failed solve, exit code 1
        click.echo(f"ERROR: failed to solve: {exc}", err=True)
        sys.exit(1)
    except BaseException:
        _close(progress)
        raise
    finally:
        for secret_file in temp:
            secret_file.unlink(missing_ok=True)
    _close(progress)
    if result.unused_args:
        click.echo(f"[Warning] One or more build-args [{' '.join(result.unused_args)}] "
                   "were not consumed", err=True)  # fmt: skip
    if iidfile:
        Path(iidfile).write_text(result.image_id)
    if quiet:
        click.echo(result.image_id)
        return
    click.echo(f"writing image {result.image_id} done", err=True)
    for tag in result.tags:
        click.echo(f"naming to {tag} done", err=True)


@click.group("builder")
def builder_group() -> None:
    """Manage builds."""


@builder_group.command("prune")
@click.option(
    "-a", "--all", "all_", is_flag=True, help="Remove all unused build cache (the default here)."
)
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
def prune_cmd(all_: bool, force: bool) -> None:
    """Remove build cache."""
    from dockyard.cli._humanize import human_size
    from dockyard.service.build import prune_build_cache

    count, freed = prune_build_cache(engine())
    click.echo(f"Deleted build cache objects: {count}")
    click.echo(f"Total reclaimed space: {human_size(freed)}")
