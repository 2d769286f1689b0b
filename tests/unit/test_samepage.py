"""Same-page merging for the fork server's children: which memory is marked, and ksmd started and
put back as it was found."""
from lab.runtime import samepage

MAPS = """\
55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1234   /usr/bin/python3.11
55d0c0c00000-55d0c0d00000 rw-p 00200000 fd:01 1234   /usr/bin/python3.11
55d0c1000000-55d0c5000000 rw-p 00000000 00:00 0      [heap]
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
7f0000100000-7f0000200000 rw-s 00000000 00:01 99     /dev/zero (deleted)
7f0000200000-7f0000300000 r--p 00000000 00:00 0
7f0000300000-7f0000400000 rw-p 00000000 00:00 0      [anon:glibc malloc arena]
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0      [stack]
7ffc000fe000-7ffc00100000 r-xp 00000000 00:00 0      [vdso]
"""


def test_only_private_writable_anonymous_memory_is_marked():
    assert samepage.anonymous_ranges(MAPS) == [
        (0x55d0c1000000, 0x55d0c5000000),   # the heap
        (0x7f0000000000, 0x7f0000100000),   # an anonymous mmap (pymalloc's arenas)
        (0x7f0000300000, 0x7f0000400000),   # a named anonymous one
    ]   # not the binary's data, shared memory, read-only pages, the stack or the vdso


def test_marking_this_process_marks_its_heap(monkeypatch):
    assert samepage.mark_mergeable() > 0


def fake_ksm(tmp_path, run: str):
    ksm, run_root = tmp_path / "ksm", tmp_path / "run"
    ksm.mkdir(), run_root.mkdir()
    for name, value in (("run", run), ("advisor_mode", "[none] scan-time"), ("sleep_millisecs", "20"),
                        ("pages_to_scan", "100")):
        (ksm / name).write_text(value + "\n")
    return ksm, run_root


def test_ksmd_started_when_off_at_a_bounded_pace_and_put_back_by_the_last_server(tmp_path, monkeypatch):
    ksm, run_root = fake_ksm(tmp_path, "0")
    monkeypatch.setattr(samepage, "KSM", ksm)
    assert samepage.switch_on(run_root, "bl-")
    now = {f.name: f.read_text() for f in ksm.iterdir()}
    assert now == {"run": "1", "advisor_mode": "none", "sleep_millisecs": "20", "pages_to_scan": "150"}
    (ksm / "advisor_mode").write_text("[none] scan-time\n")   # as the kernel shows it
    assert samepage.switch_on(run_root, "bl-")   # a second server: the note keeps the host's values
    samepage.restore(run_root, "bl-")
    assert {f.name: f.read_text() for f in ksm.iterdir()} == {
        "run": "0", "advisor_mode": "none", "sleep_millisecs": "20", "pages_to_scan": "100"}
    assert not list(run_root.iterdir())


def test_ksmd_found_running_is_left_running(tmp_path, monkeypatch):
    ksm, run_root = fake_ksm(tmp_path, "1")
    monkeypatch.setattr(samepage, "KSM", ksm)
    assert samepage.switch_on(run_root, "bl-")
    samepage.restore(run_root, "bl-")
    assert (ksm / "run").read_text() == "1\n" and (ksm / "pages_to_scan").read_text() == "100\n"


def test_a_kernel_without_ksm_is_no_error(tmp_path, monkeypatch):
    monkeypatch.setattr(samepage, "KSM", tmp_path / "absent")
    assert not samepage.switch_on(tmp_path, "bl-")
    samepage.restore(tmp_path, "bl-")
