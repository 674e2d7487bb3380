"""Image commands: images, import, tag, rmi, history, save, load, and the ``image`` group."""

from __future__ import annotations

import json
import sys
from typing import Any, BinaryIO

import click

from dockyard import errors
from dockyard.cli._context import engine
from dockyard.cli._format import emit
from dockyard.cli._humanize import human_size, since

_IMAGES_HEADERS = {"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
                   "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
                   "Containers": "CONTAINERS"}


def _short_id(image_id: str, no_trunc: bool) -> str:
    return image_id if no_trunc else image_id.split(":")[-1][:12]


@click.command("images", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("repository", required=False)
@click.option("-a", "--all", "all_", is_flag=True, help="Show all images (default hides intermediate images).")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@click.option("--digests", is_flag=True, help="Show digests.")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output.")
@click.option("-f", "--filter", "filters", multiple=True, help="Filter output (dangling=, reference=, label=, before=, since=).")
@click.option("--format", "fmt", help="Format output using a Go template, or 'json'.")
def images_cmd(repository: str | None, all_: bool, quiet: bool, digests: bool, no_trunc: bool,
               filters: tuple[str, ...], fmt: str | None) -> None:
    """List images."""
    from dockyard.service.image_filters import parse_filters

    parsed = parse_filters(filters)
    if repository:
        parsed.setdefault("reference", []).append(repository)
    rows = engine().images.list_images(all_images=all_, filters=parsed)
    if quiet:
        seen: list[str] = []
        for row in rows:
            short = _short_id(row.id, no_trunc)
            if short not in seen:
                seen.append(short)
        if seen:
            click.echo("\n".join(seen))
        return
    items = [
        {
            "Repository": r.repository, "Tag": r.tag, "ID": _short_id(r.id, no_trunc),
            "Digest": r.digest, "CreatedSince": since(r.created), "CreatedAt": r.created,
            "Size": human_size(r.size), "Containers": "N/A", "Labels": r.labels,
        }
        for r in rows
    ]
    default = "table {{.Repository}}\t{{.Tag}}\t" + ("{{.Digest}}\t" if digests else "") + \
        "{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    out = emit(fmt, items, _IMAGES_HEADERS, default)
    if out:
        click.echo(out)


@click.command("import")
@click.argument("source")
@click.argument("reference", required=False)
@click.option("-c", "--change", "changes", multiple=True, help="Apply a Dockerfile instruction to the image.")
@click.option("-m", "--message", default="", help="Set a commit message for the imported image.")
@click.option("--platform", help="Set platform if the server is multi-platform capable.")
def import_cmd(source: str, reference: str | None, changes: tuple[str, ...], message: str,
               platform: str | None) -> None:
    """Import the contents from a tarball (FILE, - for stdin, or URL) to create an image."""
    from dockyard.service.image_transfer import ImportRequest, import_image

    stream = _open_source(source)
    try:
        image_id = import_image(engine(), ImportRequest(source, stream, reference, changes, message, platform))
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    click.echo(image_id)


def _open_source(source: str) -> BinaryIO:
    if source == "-":
        return sys.stdin.buffer
    if source.startswith(("http://", "https://")):
        import io
        import urllib.request

        try:
            response = urllib.request.urlopen(source, timeout=60)
        except OSError as exc:
            raise errors.Unavailable(f"import {source}: {exc}") from exc
        return io.BufferedReader(response)  # type: ignore[arg-type]
    try:
        return open(source, "rb")
    except FileNotFoundError as exc:
        raise errors.NotFound(f"open {source}: no such file or directory") from exc
    except OSError as exc:
        raise errors.InvalidArgument(f"open {source}: {exc.strerror}") from exc


@click.command("tag")
@click.argument("source")
@click.argument("target")
def tag_cmd(source: str, target: str) -> None:
    """Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."""
    engine().images.tag(source, target)


@click.command("rmi")
@click.argument("images", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Force removal of the image.")
@click.option("--no-prune", is_flag=True, help="Do not delete untagged parents.")
def rmi_cmd(images: tuple[str, ...], force: bool, no_prune: bool) -> None:
    """Remove one or more images."""
    failed = False
    for name in images:
        try:
            report = engine().images.remove(name, force=force, prune=not no_prune)
        except errors.DockyardError as exc:
            click.echo(f"Error response from daemon: {exc}", err=True)
            failed = True
            continue
        for ref in report.untagged:
            click.echo(f"Untagged: {ref}")
        for image_id in report.deleted:
            click.echo(f"Deleted: {image_id}")
    if failed:
        sys.exit(1)


_HISTORY_HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
                    "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}


@click.command("history")
@click.argument("image")
@click.option("-H", "--human", default=True, type=bool, help="Print sizes and dates in human readable format.")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output.")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@click.option("--format", "fmt", help="Format output using a Go template, or 'json'.")
def history_cmd(image: str, human: bool, no_trunc: bool, quiet: bool, fmt: str | None) -> None:
    """Show the history of an image."""
    rows = engine().images.history(image)
    if quiet:
        click.echo("\n".join(_short_id(r["Id"], no_trunc) if r["Id"] != "<missing>" else r["Id"] for r in rows))
        return
    items = []
    for r in rows:
        created_by = r["CreatedBy"]
        if not no_trunc and len(created_by) > 45:
            created_by = created_by[:44] + "…"
        items.append({
            "ID": _short_id(r["Id"], no_trunc) if r["Id"] != "<missing>" else "<missing>",
            "CreatedSince": since(r["Created"]) if human else r["Created"],
            "CreatedAt": r["Created"], "CreatedBy": created_by,
            "Size": human_size(r["Size"]) if human else str(r["Size"]), "Comment": r["Comment"],
        })
    click.echo(emit(fmt, items, _HISTORY_HEADERS,
                    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"))


@click.command("save")
@click.argument("images", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file, instead of STDOUT.")
@click.option("--platform", help="Save only the given platform variant.")
def save_cmd(images: tuple[str, ...], output: str | None, platform: str | None) -> None:
    """Save one or more images to a tar archive (streamed to STDOUT by default)."""
    import os
    import tempfile

    from dockyard.service.image_transfer import save_images

    eng = engine()
    for name in images:  # fail before writing anything
        if not _save_name_known(eng, name):
            eng.images.resolve_id(name)  # raises NotFound naming it as docker does
    if output is None:
        if sys.stdout.isatty():
            raise errors.InvalidArgument(
                "cowardly refusing to save to a terminal. Use the -o flag or redirect"
            )
        save_images(eng, list(images), sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    folder = os.path.dirname(os.path.abspath(output))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".dockyard-save-")
    try:
        with os.fdopen(fd, "wb") as f:
            save_images(eng, list(images), f)
        os.replace(tmp, output)
    except BaseException:
        os.unlink(tmp)
        raise


def _save_name_known(eng: Any, name: str) -> bool:
    if eng.images.exists(name):
        return True
    from dockyard.oci import reference

    try:
        ref = reference.parse(name)
    except errors.InvalidArgument:
        return False
    return any(reference.parse(t).name == ref.name for r in eng.image_records.all() for t in r.repo_tags)


@click.command("load")
@click.option("-i", "--input", "input_", type=click.Path(dir_okay=False), help="Read from tar archive file, instead of STDIN.")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the load output.")
@click.option("--platform", help="Load only the given platform variant.")
def load_cmd(input_: str | None, quiet: bool, platform: str | None) -> None:
    """Load an image from a tar archive or STDIN."""
    from dockyard.service.image_transfer import load_images

    if input_ is None:
        if sys.stdin.isatty():
            raise errors.InvalidArgument(
                "requested load from stdin, but stdin is empty"
            )
        lines = load_images(engine(), sys.stdin.buffer, platform)
    else:
        try:
            with open(input_, "rb") as f:
                lines = load_images(engine(), f, platform)
        except FileNotFoundError as exc:
            raise errors.NotFound(f"open {input_}: no such file or directory") from exc
    # As docker: -q hides progress only; the "Loaded image" lines are the result.
    for line in lines:
        click.echo(line)


@click.command("prune")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused images, not just dangling ones.")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
@click.option("--filter", "filters", multiple=True, help="Provide filter values (e.g. 'until=<timestamp>').")
def prune_cmd(all_: bool, force: bool, filters: tuple[str, ...]) -> None:
    """Remove unused images."""
    from dockyard.service.image_filters import parse_filters

    if not force:
        warning = ("WARNING! This will remove all images without at least one container associated to them."
                   if all_ else "WARNING! This will remove all dangling images.")
        if not click.confirm(warning + "\nAre you sure you want to continue?", default=False):
            return
    results, freed = engine().images.prune(all_images=all_, filters=parse_filters(filters))
    if results:
        click.echo("Deleted Images:")
        for entry in results:
            for key, value in entry.items():
                click.echo(f"{key.lower()}: {value}" if key == "Untagged" else f"deleted: {value}")
        click.echo("")
    click.echo(f"Total reclaimed space: {human_size(freed)}")


@click.command("inspect")
@click.argument("images", nargs=-1, required=True)
@click.option("-f", "--format", "fmt", help="Format output using a Go template, or 'json'.")
def image_inspect_cmd(images: tuple[str, ...], fmt: str | None) -> None:
    """Display detailed information on one or more images."""
    from dockyard.cli.inspect import print_inspected

    print_inspected([(name, lambda n: engine().images.inspect(n), "image") for name in images], fmt)


@click.group("image")
def image_group() -> None:
    """Manage images."""


image_group.add_command(images_cmd, "ls")
image_group.add_command(images_cmd, "list")
image_group.add_command(import_cmd)
image_group.add_command(tag_cmd)
image_group.add_command(rmi_cmd, "rm")
image_group.add_command(rmi_cmd, "remove")
image_group.add_command(history_cmd)
image_group.add_command(save_cmd)
image_group.add_command(load_cmd)
image_group.add_command(prune_cmd)
image_group.add_command(image_inspect_cmd)


def _json(value: Any) -> str:
    return json.dumps(value, indent=4)
