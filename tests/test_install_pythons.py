"""scripts/install_pythons.py: the parts that decide, read and write, without network or apt."""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import sysconfig
from pathlib import Path

import pytest
from scripts_support import load_script

from snippet_engine.discovery import Discovery
from snippet_engine.interpreters import Interpreter, key_of, parse_key, supported_keys

ROOT = Path(__file__).resolve().parents[1]
DPKG = pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg orders Debian versions; not here")


ip = load_script("install_pythons")


def _entry(key: str = "3.14", **changes: object) -> object:
    fields: dict[str, object] = {
        "key": key,
        "path": f"/cache/{key}/usr/bin/python{key}",
        "source": "debian-unstable",
        "packages": {f"python{key}": "3.14.10-1", "libc6": "2.43-7"},
        "installed": "2026-12-01T07:32:00Z",
        "version": "3.14.10 (main, Oct 26 2026, 15:12:11) [GCC 16.2.0]",
    }
    fields.update(changes)
    return ip.Entry(**fields)


# ----------------------------------------------------------------- the supported set


def test_the_keys_are_the_engines() -> None:
    assert ip.select_keys(None) == supported_keys()
    assert ip.supported_keys is supported_keys  # imported, not a copy


def test_only_narrows_in_the_engines_order() -> None:
    assert ip.select_keys("pypy3.11, 3.14") == ["3.14", "pypy3.11"]
    assert ip.select_keys("3.13t") == ["3.13t"]


def test_only_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError, match=r"3\.10"):
        ip.select_keys("3.10,3.14")


def test_uv_request() -> None:
    assert ip.uv_request("3.14") == "3.14"
    assert ip.uv_request("3.13t") == "3.13t"
    assert ip.uv_request("pypy3.11") == "pypy@3.11"


def test_ways_to_install() -> None:
    assert [label for label, _ in ip.ways_to_install("3.14", True, True)] == ["uv", "Debian unstable"]
    assert [label for label, _ in ip.ways_to_install("3.13t", True, True)] == ["uv", "a build"]
    assert [label for label, _ in ip.ways_to_install("3.13t", True, False)] == ["uv"]
    assert [label for label, _ in ip.ways_to_install("pypy3.11", False, True)] == ["uv"]


def test_verified_uses_the_engines_probe() -> None:
    here = sys.executable
    language = f"{sys.version_info[0]}.{sys.version_info[1]}"
    key = key_of(sys.implementation.name, language, bool(sysconfig.get_config_var("Py_GIL_DISABLED")))
    found = ip.verified(here, key)
    assert found is not None and found.key == key and found.path == here
    assert ip.verified(here, "pypy3.11" if key != "pypy3.11" else "3.11") is None
    assert ip.verified("/no/such/python", key) is None


# ------------------------------------------------------------------------- manifest


def test_manifest_round_trip() -> None:
    entries = [
        _entry("pypy3.11", packages={"pypy3": "8.0.1+dfsg-1"}),
        _entry(
            "3.13t",
            source="debian-source-build",
            packages={"python3.13": "3.13.5-2+deb13u5"},
            configure=["--prefix=/cache/3.13t", "--disable-gil"],
            timings={"make": 400.0},
        ),
        _entry("3.14"),
    ]
    text = ip.render_manifest(entries)
    assert [item["key"] for item in json.loads(text)["interpreters"]] == ["3.14", "3.13t", "pypy3.11"]
    assert ip.parse_manifest(text) == sorted(entries, key=lambda e: supported_keys().index(e.key))


def test_manifest_has_the_documented_shape() -> None:
    data = json.loads(ip.render_manifest([_entry("3.14")]))
    (item,) = data["interpreters"]
    assert {"key", "path", "source", "packages", "installed"} <= set(item)
    assert item["packages"] == {"libc6": "2.43-7", "python3.14": "3.14.10-1"}
    assert "configure" not in item  # only a build has flags


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"interpreters": {}}',
        '{"interpreters": [{"key": "3.14"}]}',
        '{"interpreters": [{"key": "3.14", "path": "/p", "source": "s", "installed": "t", "packages": []}]}',
        "not json",
    ],
)
def test_bad_manifests_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ip.parse_manifest(text)


def test_upsert_replaces_the_same_key() -> None:
    old, other = _entry("3.14", version="old"), _entry("3.15")
    new = _entry("3.14", version="new")
    assert ip.upsert([old, other], new) == [other, new]


def test_read_manifest_missing_or_corrupt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.read_manifest(tmp_path / "manifest.json") == []
    (tmp_path / "manifest.json").write_text("{")
    assert ip.read_manifest(tmp_path / "manifest.json") == []
    assert "ignoring" in capsys.readouterr().err


def test_write_manifest_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    ip.write_manifest(path, [_entry("3.14")])
    ip.write_manifest(path, ip.upsert(ip.read_manifest(path), _entry("3.15")))
    assert [e.key for e in ip.read_manifest(path)] == ["3.14", "3.15"]
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


# --------------------------------------------------------------------- apt config


def test_sources_list() -> None:
    keyring = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
    text = ip.sources_list("http://deb.debian.org/debian", keyring, ["unstable"], ["unstable", "trixie"])
    assert text.splitlines() == [
        f"deb [signed-by={keyring}] http://deb.debian.org/debian unstable main",
        f"deb-src [signed-by={keyring}] http://deb.debian.org/debian unstable main",
        f"deb-src [signed-by={keyring}] http://deb.debian.org/debian trixie main",
    ]


def _options(options: list[str]) -> dict[str, str]:
    assert options[::2] == ["-o"] * (len(options) // 2)
    return dict(option.split("=", 1) for option in options[1::2])


def test_apt_options_keep_all_state_private(tmp_path: Path) -> None:
    settings = _options(ip.apt_options(tmp_path, "amd64", None))
    for name in (
        "Dir::State",
        "Dir::State::Lists",
        "Dir::State::status",
        "Dir::Cache",
        "Dir::Etc::SourceList",
        "Dir::Etc::SourceParts",
        "Dir::Etc::Preferences",
        "Dir::Etc::PreferencesParts",
    ):
        assert Path(settings[name]).is_relative_to(tmp_path), name
    assert settings["Dir::State::status"] == str(tmp_path / "status")
    assert settings["APT::Architecture"] == "amd64"
    assert not any(value.startswith(("/etc/apt", "/var/lib/apt")) for value in settings.values())
    assert "APT::Sandbox::User" not in settings


def test_apt_options_as_root_download_as_root(tmp_path: Path) -> None:
    assert _options(ip.apt_options(tmp_path, "arm64", "root"))["APT::Sandbox::User"] == "root"


def test_lists_are_fresh(tmp_path: Path) -> None:
    assert not ip.lists_are_fresh(tmp_path, 3600, 1e9)
    (tmp_path / ".updated").touch()
    stamp = (tmp_path / ".updated").stat().st_mtime
    assert not ip.lists_are_fresh(tmp_path, 3600, stamp + 10)  # an update that fetched nothing
    (tmp_path / "deb.debian.org_debian_dists_unstable_main_binary-amd64_Packages.lz4").touch()
    assert ip.lists_are_fresh(tmp_path, 3600, stamp + 10)
    assert not ip.lists_are_fresh(tmp_path, 3600, stamp + 4000)


def test_debian_packages() -> None:
    assert ip.debian_packages("3.15") == [
        "python3.15",
        "python3.15-minimal",
        "libpython3.15-minimal",
        "libpython3.15-stdlib",
        "python3.15-venv",
    ]
    assert ip.debian_packages("pypy3.11")[0] == "pypy3"


DEPENDS = """\
python3.14
  Depends: python3.14-minimal
  Depends: libpython3.14-stdlib
 |Depends: media-types
  Depends: <mime-support>
  Depends: tzdata
libpython3.14-stdlib
 |Depends: <libfoo-virtual>
  Depends: libfoo1
  Depends: libc6
  Depends: netbase
libc6
  Depends: libgcc-s1
  Depends: libc-gconv-modules-extra
libssl3t64
  PreDepends: libc6
  Depends: zlib1g
  Depends: openssl-provider-legacy
"""


def test_parse_depends_takes_the_first_real_alternative() -> None:
    depends = ip.parse_depends(DEPENDS)
    assert depends["python3.14"] == ["python3.14-minimal", "libpython3.14-stdlib", "media-types", "tzdata"]
    assert depends["libpython3.14-stdlib"] == ["libfoo1", "libc6", "netbase"]
    assert depends["libssl3t64"] == ["libc6", "zlib1g", "openssl-provider-legacy"]


def test_library_closure_follows_only_libraries() -> None:
    depends = ip.parse_depends(DEPENDS)
    depends["python3.14-minimal"] = ["libssl3t64", "libexpat1-dev"]
    closure = ip.library_closure(["python3.14", "python3.14-minimal"], depends)
    assert closure == [
        "python3.14",
        "python3.14-minimal",
        "libpython3.14-stdlib",
        "libssl3t64",
        "libfoo1",
        "libc6",
        "zlib1g",
        "libgcc-s1",
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("libssl3t64", True), ("zlib1g", True), ("libssl-dev", False), ("tzdata", False), ("libc-bin", False)],
)
def test_is_runtime_library(name: str, expected: bool) -> None:
    assert ip.is_runtime_library(name) is expected


def test_parse_deb_filename() -> None:
    assert ip.parse_deb_filename("python3.14_3.14.10-1_amd64.deb") == ("python3.14", "3.14.10-1")
    assert ip.parse_deb_filename("zlib1g_1%3a1.3.dfsg-3.1_amd64.deb") == ("zlib1g", "1:1.3.dfsg-3.1")


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("3.14.9-1", "3.14.10-1"),
        ("3.13.5-2+deb13u5", "3.13.15-1"),
        ("3.14.0~rc1-1", "3.14.0-1"),
        ("3.14.0-1", "3.14.0-1+b1"),
        ("9.9-1", "1:0.1-1"),
        ("1.0-1", "1.0a-1"),
        ("1.0~~-1", "1.0~-1"),
        ("3.13.5-2", "3.13.5-10"),
    ],
)
@DPKG
def test_debian_version_order(older: str, newer: str) -> None:
    assert ip.newest_first([older, newer, older]) == [newer, older]


def test_parse_source_versions() -> None:
    output = """\
Package: python3.14
Version: 3.14.9-1
Directory: pool/main/p/python3.14

Package: python3.13
Version: 3.13.18-1

Package: python3.14
Version: 3.14.10-1

Package: python3.14
Version: 3.14.10-1
"""
    assert ip.parse_source_versions(output, "python3.14") == ["3.14.9-1", "3.14.10-1", "3.14.10-1"]
    assert ip.parse_source_versions(output, "python3.12") == []


def test_parse_dpkg_status_and_policy() -> None:
    status = "libssl-dev ii \nlibgdbm-dev un \nlibffi-dev:amd64 ii \n"
    assert ip.parse_dpkg_status(status) == {"libssl-dev", "libffi-dev"}
    policy = """\
libgdbm-dev:
  Installed: (none)
  Candidate: 1.23-3
  Version table:
     1.23-3 500
libfoo-dev:
  Installed: (none)
  Candidate: (none)
"""
    assert ip.parse_policy_candidates(policy) == {"libgdbm-dev"}


def test_parse_missing_modules() -> None:
    log = """\
Checked 112 modules (33 built-in, 75 shared, 1 n/a on linux-x86_64, 1 disabled, 2 missing, 0 failed on import)

The necessary bits to build these optional modules were not found:
_dbm                      _gdbm
To find the necessary bits, look in configure.ac and config.log.

Following modules built successfully but were removed because they could not be imported:
_tkinter

make: done
"""
    assert ip.parse_missing_modules(log) == ["_dbm", "_gdbm", "_tkinter"]
    assert ip.parse_missing_modules("all good\n") == []


# ----------------------------------------------------------------- ELF and the tree


def _elf_header(program_types: list[int]) -> bytes:
    phoff, entry_size = 64, 56
    header = bytearray(b"\x7fELF" + bytes([2, 1, 1]) + bytes(9))
    header += struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, 0, 0, 64, entry_size, len(program_types), 0, 0, 0
    )
    for program_type in program_types:
        header += struct.pack("<II", program_type, 0) + bytes(entry_size - 8)
    return bytes(header)


def test_has_interpreter() -> None:
    assert ip.has_interpreter(_elf_header([6, 3, 1]))  # PT_PHDR, PT_INTERP, PT_LOAD: an executable
    assert not ip.has_interpreter(_elf_header([1, 1, 2]))  # a shared library
    assert not ip.has_interpreter(b"#!/bin/sh\n" + bytes(100))


def test_relink_absolute_symlinks(tmp_path: Path) -> None:
    (tmp_path / "etc" / "python3.14").mkdir(parents=True)
    (tmp_path / "etc" / "python3.14" / "sitecustomize.py").write_text("# ours\n")
    lib = tmp_path / "usr" / "lib" / "python3.14"
    lib.mkdir(parents=True)
    (lib / "sitecustomize.py").symlink_to("/etc/python3.14/sitecustomize.py")
    (lib / "relative.py").symlink_to("sitecustomize.py")
    ip.relink_absolute_symlinks(tmp_path)
    assert os.readlink(lib / "sitecustomize.py") == "../../../etc/python3.14/sitecustomize.py"
    assert (lib / "sitecustomize.py").read_text() == "# ours\n"
    assert os.readlink(lib / "relative.py") == "sitecustomize.py"


def test_outside_paths(tmp_path: Path) -> None:
    inside = tmp_path / "3.14" / "usr" / "lib" / "python3.14"
    inside.mkdir(parents=True)
    outside = tmp_path / "host-dist-packages"
    outside.mkdir()
    entries = [str(inside), str(outside), str(tmp_path / "3.14" / "absent.zip"), "/no/such/dir"]
    assert ip.outside_paths(entries, tmp_path / "3.14") == [str(outside)]
    assert ip.outside_paths(entries, None) == []


# --------------------------------------------------------------------------- output


def test_describe_names_the_interpreter_package() -> None:
    entry = _entry("3.14", packages={"python3.14-minimal": "3.14.10-1", "python3.14": "3.14.10-1"})
    assert ip.describe(entry) == "Debian unstable python3.14 3.14.10-1"
    build = _entry(
        "3.13t",
        source="debian-source-build",
        packages={"python3.13": "3.13.5-2"},
        configure=["--prefix=/c", "--disable-gil"],
    )
    assert ip.describe(build) == "built from Debian source python3.13 3.13.5-2 with --disable-gil"


def test_first_error_line() -> None:
    output = "Reading package lists...\nE: Unable to locate package python3.12\nE: other\n"
    assert ip.first_error_line(output) == "E: Unable to locate package python3.12"
    assert ip.first_error_line("a\nlast words\n") == "last words"
    assert ip.first_error_line("") == "no output"


# --------------------------------------------------------------------- the driver


def _interpreter(key: str, base: str) -> Interpreter:
    implementation, language, free_threaded = parse_key(key)
    full = f"{language}.2"
    return Interpreter(implementation, language, full, full, None, f"{base}-venv", free_threaded, base)


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every supported interpreter but 3.15 and 3.13t; installing 3.15 works, 3.13t does not.

    Discovery is faked the way the engine's behaves: what is on the machine,
    plus what the installer's manifest names. Returns the keys installs were tried for.
    """
    monkeypatch.setenv("SNIPPET_PYTHONS_CACHE", str(tmp_path))
    monkeypatch.delenv("SNIPPET_PYTHONS", raising=False)
    present = {key: f"/usr/bin/python{key}" for key in supported_keys() if key not in ("3.15", "3.13t")}
    tried: list[str] = []

    def discovery() -> Discovery:
        found = present | {e.key: e.path for e in ip.read_manifest(tmp_path / "manifest.json")}
        return Discovery(tuple(_interpreter(key, path) for key, path in found.items()), ("/x: ignored",))

    def install(key: str, cache: Path) -> object:
        tried.append(key)
        if key == "3.13t":
            raise ip.Unavailable("no Debian source package python3.13")
        packages = {f"python{key}": "3.15.2-1"}
        return ip.Entry(key, f"{cache}/{key}/bin/python", "debian-unstable", packages, "2026-12-01T00:00:00Z")

    monkeypatch.setattr(ip, "engine_discovery", discovery)
    monkeypatch.setattr(ip, "ways_to_install", lambda key, debian, build: [("Debian unstable", install)])
    monkeypatch.setattr(ip, "check_health", lambda python, root: ip.Health("3.15.2 (fake)", None, {}, []))
    return tried


def test_installs_only_what_the_engine_lacks(machine: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.main([]) == 0
    assert machine == ["3.15", "3.13t"]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["3.11", "CPython", "3.11.2", "/usr/bin/python3.11"]
    assert any(
        line.startswith("3.15 ") and line.endswith("(installed now: Debian unstable python3.15 3.15.2-1)")
        for line in lines
    )
    assert "3.13t      CPython 3.13t              missing" in lines
    assert any("tried: Debian unstable: no Debian source package python3.13" in line for line in lines)
    assert "ignored    /x: ignored" in lines
    assert lines[-1] == "6 of 7 supported interpreters present; installed now: 3.15; missing: 3.13t"


def test_require_fails_when_one_stays_missing(machine: list[str]) -> None:
    assert ip.main(["--require"]) == 1
    assert ip.main(["--require", "--only", "3.15,pypy3.11"]) == 0


def test_a_second_run_installs_nothing_new(machine: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    ip.main(["--only", "3.15"])
    ip.main(["--only", "3.15"])
    assert machine == ["3.15"]
    assert "(Debian unstable python3.15 3.15.2-1)" in capsys.readouterr().out.splitlines()[-3]


def test_list_installs_nothing(machine: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.main(["--list"]) == 0
    assert machine == []
    assert "missing: 3.15, 3.13t" in capsys.readouterr().out


def test_snippet_pythons_means_nothing_is_installed(
    machine: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The engine would not look in the install folder, so an install would not be used.
    monkeypatch.setenv("SNIPPET_PYTHONS", "/usr/bin/python3.11")
    assert ip.main(["--require"]) == 1
    assert machine == []
    assert "SNIPPET_PYTHONS is set" in capsys.readouterr().err


def test_an_unexpected_error_is_reported_not_raised(
    machine: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(key: str, cache: Path) -> object:
        raise OSError("disk full")

    monkeypatch.setattr(ip, "ways_to_install", lambda key, debian, build: [("Debian unstable", broken)])
    assert ip.main(["--only", "3.15"]) == 0
    assert "tried: Debian unstable: failed unexpectedly: OSError: disk full" in capsys.readouterr().out


def test_a_failed_apt_update_is_not_retried_in_the_same_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates: list[str] = []

    def get(self: object, *args: str, **kwargs: object) -> str:
        updates.append(args[0])
        raise ip.Unavailable("apt-get update failed: E: unreachable")

    monkeypatch.setattr(ip, "is_debian", lambda: True)
    monkeypatch.setattr(ip, "DEBIAN_KEYRING", tmp_path / "keyring.gpg")
    (tmp_path / "keyring.gpg").touch()
    monkeypatch.setattr(ip, "debian_arch", lambda: "amd64")
    monkeypatch.setattr(ip.Apt, "get", get)
    for _ in range(3):
        with pytest.raises(ip.Unavailable, match="unreachable"):
            ip.prepare_apt(tmp_path / "cache")
    assert updates == ["update"]
