"""Tests of theory.atomic: writes are whole or absent, output paths are checked early."""

from __future__ import annotations

import errno
import json
import os
import stat
import threading

import pytest

from theory import atomic
from theory.atomic import (
    OutputPathError,
    atomic_open,
    atomic_write_bytes,
    atomic_write_text,
    check_output_path,
)
from theory.format import dump_json, load_instance, save_instance
from theory.generators import three_state_example


def _only(folder, name):
    """The folder holds exactly ``name``: no temporary file is left behind."""
    assert sorted(os.listdir(folder)) == [name], os.listdir(folder)


def test_write_creates_and_replaces_whole_files(tmp_path):
    target = tmp_path / "out.json"
    atomic_write_text(target, "first\n")
    assert target.read_text() == "first\n"
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    _only(tmp_path, "out.json")


@pytest.mark.parametrize("error", [RuntimeError("solver bug"), KeyboardInterrupt()])
def test_an_exception_mid_write_leaves_the_previous_file(tmp_path, error):
    target = tmp_path / "solution.json"
    target.write_text("previous")
    with pytest.raises(type(error)), atomic_open(target) as stream:
        stream.write("half of the new")
        raise error
    assert target.read_text() == "previous"
    _only(tmp_path, "solution.json")


def test_an_exception_mid_write_leaves_no_file_when_there_was_none(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_open(tmp_path / "new.json") as stream:
        stream.write("{")
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


class _FullDisk:
    """A file object that accepts ``room`` characters, then fails like a full disk."""

    def __init__(self, stream, room: int) -> None:
        self.stream, self.room = stream, room

    def write(self, text):
        if len(text) > self.room:
            self.stream.write(text[: self.room])
            self.stream.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(text)
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.stream.__exit__(*exc)


def test_a_full_disk_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    """Issue 11: a full disk used to leave a truncated JSON file (or a 0-byte one)."""
    model = three_state_example()
    target = tmp_path / "instance.json"
    save_instance(model, target)
    before = target.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(
        atomic.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k), room=10)
    )
    with pytest.raises(OSError) as info:
        dump_json({"format": "pamdp/instance@1", "name": "x" * 1000}, target)
    assert info.value.errno == errno.ENOSPC
    assert target.read_bytes() == before
    _only(tmp_path, "instance.json")
    monkeypatch.undo()
    assert load_instance(target).name == model.name


def test_dash_means_standard_output(capsys):
    atomic_write_text("-", "to stdout\n")
    assert capsys.readouterr().out == "to stdout\n"
    text = dump_json({"a": 1}, "-")
    assert capsys.readouterr().out == text + "\n"


def test_dash_binary_means_standard_output_buffer(capsysbinary):
    atomic_write_bytes("-", b"\x00bytes")
    assert capsysbinary.readouterr().out == b"\x00bytes"


def test_permissions_follow_the_umask_or_the_replaced_file(tmp_path):
    mask = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.txt"
        atomic_write_text(fresh, "x")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o640  # 0o666 & ~0o027
        kept = tmp_path / "kept.txt"
        kept.write_text("old")
        kept.chmod(0o600)
        atomic_write_text(kept, "new")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    finally:
        os.umask(mask)


def test_a_symbolic_link_is_followed_and_kept(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real.json"]


def test_a_named_pipe_is_written_directly(tmp_path):
    """Renaming over a pipe (or /dev/null) would replace it; such targets are written as is."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()))
    reader.start()
    check_output_path(pipe)
    atomic_write_text(pipe, "through the pipe")
    reader.join(timeout=10)
    assert received == ["through the pipe"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda d: d / "missing" / "out.json", "does not exist"),
        (lambda d: d, "is a folder"),
        (lambda d: _file(d / "plain") / "out.json", "is not a folder"),
    ],
    ids=["missing-folder", "a-folder", "file-as-folder"],
)
def test_bad_output_paths_are_refused_before_any_work(tmp_path, make, fragment):
    path = make(tmp_path)
    with pytest.raises(OutputPathError, match=fragment) as info:
        check_output_path(path)
    assert str(path) in str(info.value)
    with pytest.raises(OutputPathError, match=fragment):
        atomic_write_text(path, "x")  # the write itself says the same


def _file(path):
    path.write_text("")
    return path


def test_an_unwritable_folder_is_refused(tmp_path, monkeypatch):
    """Root ignores permission bits, so the refusal of the probe file is simulated."""

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(OutputPathError, match="cannot create files in the folder"):
        check_output_path(tmp_path / "out.json")
    with pytest.raises(OutputPathError, match="cannot create files"):
        atomic_write_text(tmp_path / "out.json", "x")
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write read-only files and folders")
def test_read_only_folder_and_file_are_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    existing = tmp_path / "ro.json"
    existing.write_text("x")
    existing.chmod(0o444)
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputPathError, match="cannot create files"):
            check_output_path(folder / "out.json")
        with pytest.raises(OutputPathError, match="read-only"):
            check_output_path(existing)
    finally:
        folder.chmod(0o755)


def test_a_good_path_passes_and_leaves_nothing(tmp_path):
    check_output_path(tmp_path / "out.json")
    check_output_path("-")
    assert os.listdir(tmp_path) == []


def test_dump_json_writes_complete_documents(tmp_path):
    target = tmp_path / "doc.json"
    text = dump_json({"n": [1, 2]}, target, indent=1)
    assert target.read_text() == text + "\n" and json.loads(text) == {"n": [1, 2]}
