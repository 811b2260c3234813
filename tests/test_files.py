"""Reading a key file: bounded whatever the file claims to be."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tui.core.limits import MAX_KEY_FILE
from tui.services.files import KeyFileError, read_key_file


def test_an_endless_device_is_refused_after_the_cap() -> None:
    # /dev/zero says its size is 0 and never ends: the old size check trusted stat().
    with pytest.raises(KeyFileError, match="over 1 MiB"):
        read_key_file("/dev/zero")


def test_a_pipe_is_read_up_to_the_cap(tmp_path: Path) -> None:
    fifo = tmp_path / "key.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as f:
            try:
                f.write(b"x" * (MAX_KEY_FILE * 3))
            except BrokenPipeError:
                pass  # the reader stopped at the cap, as it should

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    with pytest.raises(KeyFileError, match="over 1 MiB"):
        read_key_file(fifo)
    writer.join(5)


def test_a_small_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text('{"apiKey": "x"}\n')
    assert read_key_file(path) == '{"apiKey": "x"}\n'


def test_modes_say_nothing_on_windows() -> None:
    """Windows reports 0o666 for every file: never "readable by others" from that."""
    from tui.services.files import open_to_others

    assert open_to_others(0o100666, "win32") is None
    assert open_to_others(0o100644, "linux") is True
    assert open_to_others(0o100600, "linux") is False


def test_doctor_on_windows_does_not_call_every_file_readable(tmp_path, monkeypatch) -> None:
    import sys

    from tui.services.store import Store

    db = tmp_path / "k.db"
    Store(db).close()
    db.chmod(0o666)
    from tui.services import doctor

    monkeypatch.setattr(sys, "platform", "win32")
    report = doctor.diagnose(config_path=tmp_path / "config.toml", db_path=db)
    assert not any("readable by others" in p for p in report.problems)
    assert "Windows" in report.database["mode"]
    monkeypatch.setattr(sys, "platform", "linux")
    report = doctor.diagnose(config_path=tmp_path / "config.toml", db_path=db)
    assert any("readable by others" in p for p in report.problems)


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device", "folder"])
def test_only_a_regular_file_is_ever_replaced(tmp_path: Path, kind: str) -> None:
    """`export --force`, `metrics --textfile` and Download JSON once replaced symlinks, device
    nodes and FIFOs: one writer now refuses anything but a regular file."""
    from tui.services.files import WriteError, write_atomically

    target = tmp_path / "out.json"
    victim = tmp_path / "victim"
    victim.write_text("precious")
    if kind == "symlink":
        target.symlink_to(victim)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target = Path("/dev/null")
    else:
        target.mkdir()
    with pytest.raises(WriteError):
        write_atomically(target, "secret", mode=0o600, replace=True)
    assert victim.read_text() == "precious"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.json.")]  # no temporary file left
    regular = tmp_path / "regular.json"
    regular.write_text("old")
    write_atomically(regular, "new", mode=0o600, replace=True)
    assert regular.read_text() == "new" and oct(regular.stat().st_mode & 0o777) == "0o600"
