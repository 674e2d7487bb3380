"""How pull and push progress looks on a terminal-less stdout (and the bar Docker draws)."""

import io
import threading

from dockyard.cli.registry import LiveView, PlainView, format_line, human_size, progress_bar
from dockyard.registry.progress import Progress, short_id


def test_sizes_like_docker():
    assert human_size(0) == "0B"
    assert human_size(770_900) == "770.9kB"
    assert human_size(2_152_000) == "2.152MB"
    assert human_size(40_000_000) == "40MB"


def test_progress_bar_like_docker():
    assert (
        progress_bar(12_000_000, 40_000_000) == "[" + "=" * 15 + ">" + " " * 35 + "]     12MB/40MB"
    )
    assert progress_bar(40_000_000, 40_000_000) == "[" + "=" * 50 + ">]     40MB/40MB"
    assert progress_bar(None, None) == ""
    assert progress_bar(5000, None) == "     5kB"


def test_format_line():
    layer = short_id("sha256:a46fbb00284b" + "0" * 52)
    assert layer == "a46fbb00284b"
    assert format_line(Progress("Pull complete", layer)) == "a46fbb00284b: Pull complete"
    line = format_line(Progress("Downloading", layer, 1_000_000, 2_000_000))
    assert line.startswith("a46fbb00284b: Downloading [" + "=" * 25 + ">")
    assert line.endswith("1MB/2MB")
    assert format_line(Progress("Digest: sha256:abc")) == "Digest: sha256:abc"


def test_plain_view_prints_each_status_change_once():
    out = io.StringIO()
    view = PlainView(out)
    events = [
        Progress("latest: Pulling from library/busybox"),
        Progress("Pulling fs layer", "aaa"),
        Progress("Downloading", "aaa", 1, 10),
        Progress("Downloading", "aaa", 5, 10),
        Progress("Download complete", "aaa"),
        Progress("Pull complete", "aaa"),
        Progress("Digest: sha256:abc"),
    ]
    for e in events:
        view(e)
    assert out.getvalue().splitlines() == [
        "latest: Pulling from library/busybox",
        "aaa: Pulling fs layer",
        "aaa: Downloading",
        "aaa: Download complete",
        "aaa: Pull complete",
        "Digest: sha256:abc",
    ]


def test_docker_json_messages_for_the_api():
    from dockyard.registry.progress import docker_json

    assert docker_json(Progress("Digest: sha256:abc")) == {"status": "Digest: sha256:abc"}
    assert docker_json(Progress("Pull complete", "aaa")) == {
        "status": "Pull complete",
        "id": "aaa",
        "progressDetail": {},
    }
    msg = docker_json(Progress("Downloading", "aaa", 5, 10))
    assert msg["progressDetail"] == {"current": 5, "total": 10}
    assert str(msg["progress"]).startswith("[" + "=" * 25 + ">")


def test_live_view_draws_without_a_thread_of_its_own(capsys):
    """A refresh thread would make the unpack start its workers via a fork server (~1 s)."""
    view = LiveView()
    before = threading.active_count()
    view(Progress("Downloading", "abc", 1, 10))
    view(Progress("Downloading", "abc", 5, 10))
    assert threading.active_count() == before
    view(Progress("Pull complete", "abc"))
    view.close()
    assert "abc: Pull complete" in capsys.readouterr().out
