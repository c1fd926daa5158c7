"""clapemo.files: atomic writes honour the umask and write through symbolic links, stale temporaries of killed
writers are removed (never a living writer's, never another file), output targets are checked before the work,
names that are not UTF-8 are shown escaped and opened through aliases, the folder lock names its folder."""

import os
import threading
from pathlib import Path

import pytest

from clapemo import files
from clapemo.errors import DataError


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def test_atomic_write_honours_the_umask(tmp_path, umask_027):
    assert files.umask() == 0o027
    path = files.atomic_write_text(tmp_path / "a.csv", "x\n")
    assert path.read_text() == "x\n" and (path.stat().st_mode & 0o777) == 0o640
    os.umask(0o002)
    files.atomic_write_bytes(tmp_path / "a.csv", b"y")  # an overwrite gets the umask's mode too
    assert (path.stat().st_mode & 0o777) == 0o664
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]  # no temporary left


def test_atomic_write_writes_through_a_symbolic_link(tmp_path):
    target = tmp_path / "real" / "out.csv"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    files.atomic_write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target) and target.read_text() == "new"
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    with pytest.raises(DataError, match="symbolic link that loops"):
        files.atomic_write_text(loop, "x")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        files.atomic_write_text(tmp_path / "dir.csv", "x")


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    stale = tmp_path / ".out.csv.ab12cd_9.tmp"
    stale.write_text("left by a kill at the rename")
    other_target = tmp_path / ".index.json.zz99yy88.tmp"
    other_target.write_text("")
    keep = [tmp_path / "thesis.docx", tmp_path / ".out.csv.tmp", tmp_path / ".out.csv.TOOLONGNAME.tmp",
            tmp_path / "out.csv.ab12cd_9.tmp"]
    for p in keep:
        p.write_text("mine")
    assert files.remove_stale_temporaries(tmp_path, target="out.csv") == [stale]
    assert other_target.exists() and all(p.exists() for p in keep)
    assert files.remove_stale_temporaries(tmp_path) == [other_target]
    assert all(p.read_text() == "mine" for p in keep)


def test_a_living_writers_temporary_is_never_removed(tmp_path):
    with files.atomic_write(tmp_path / "out.csv") as tmp:
        tmp.write_text("being written")
        assert files.TEMPORARY_PATTERN.match(tmp.name)["target"] == "out.csv"
        removed = []
        worker = threading.Thread(target=lambda: removed.extend(files.remove_stale_temporaries(tmp_path)))
        worker.start()
        worker.join()
        assert removed == [] and tmp.exists()
    assert (tmp_path / "out.csv").read_text() == "being written"


def test_output_targets_are_checked_before_the_work(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataError, match=r"-o .*folder.csv is a folder"):
        files.check_output_file(tmp_path / "folder.csv", what="-o")
    (tmp_path / "plain").write_text("")
    with pytest.raises(DataError, match="is a file, not a folder"):
        files.check_output_file(tmp_path / "plain" / "x.csv")
    with pytest.raises(DataError, match="cannot write in /proc"):  # a pseudo file system
        files.check_output_file("/proc/out.csv", what="-o")
    with pytest.raises(DataError, match="is a file; a folder is expected"):
        files.check_output_folder(tmp_path / "plain")
    with pytest.raises(DataError, match="cannot write in /proc"):
        files.check_output_folder("/proc/my_index")
    assert files.check_output_file(tmp_path / "new" / "deeper" / "x.csv") == tmp_path / "new" / "deeper" / "x.csv"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.csv", "plain"]  # the probe is gone
    with pytest.raises(DataError, match="cannot create its lock"):
        with files.FolderLock("/proc/my_index", what="audio index"):
            pass


def test_names_that_are_not_utf8(tmp_path):
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9.wav"
    with open(raw, "wb") as fh:
        fh.write(b"bytes")
    path = os.fsdecode(raw)
    shown = files.display_path(path)
    assert shown == str(tmp_path) + "/caf\\xe9.wav" and shown.encode("utf-8")
    assert files.display_path(tmp_path / "plain.wav") == str(tmp_path / "plain.wav")
    with files.readable_paths([tmp_path / "plain.wav", path]) as readable:
        assert readable[0] == str(tmp_path / "plain.wav")
        assert readable[1].endswith(".wav") and readable[1].encode("utf-8")
        assert Path(readable[1]).read_bytes() == b"bytes"
        assert files.named_message(f"DataError: {readable[1]}: bad", alias=readable[1], path=path) == \
            f"DataError: {shown}: bad"
        folder = Path(readable[1]).parent
    assert not folder.exists()
    assert files.named_message(None, alias="a", path="a") is None
