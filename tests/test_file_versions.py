"""hub_assets.file_versions: a file is parsed once per version, and again as soon as it changes."""

import os

from hub_assets.file_versions import parsed_once_per_version


def test_a_file_is_parsed_once_until_it_changes(tmp_path):
    calls = []

    @parsed_once_per_version
    def read(path):
        calls.append(path)
        return path.read_text()

    f = tmp_path / "governance.yaml"
    f.write_text("a: 1\n")
    assert read(f) == read(tmp_path / "." / "governance.yaml") == "a: 1\n"
    assert len(calls) == 1
    f.write_text("a: 22\n")  # a new version (another size and modification time)
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 1_000_000))
    assert read(f) == "a: 22\n"
    assert len(calls) == 2
