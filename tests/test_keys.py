"""Keys: stored encrypted or in a keyring, never shown, never taken from argv, overridden by
the environment, and scrubbed from logs."""

from __future__ import annotations

import getpass
import json
import logging
import sys

import keyring
import pytest
from cryptography.fernet import Fernet
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from typer.testing import CliRunner

from simkit.cli import app
from simkit.cli.keys import _read_value
from simkit.keys import (
    KeyStoreError,
    delete_key,
    get_key,
    install_log_scrubber,
    list_keys,
    rotate_key,
    rotate_master_key,
    scrub,
    set_key,
    store_backend,
)

SENTINEL = "SENTINEL-KEY-44b1e0c9d2"
runner = CliRunner()


@pytest.fixture
def keyhome(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIMKIT_CACHE_DIR", raising=False)
    for name in ("META_ACCESS_TOKEN", "SEMRUSH_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIMKIT_KEYS_BACKEND", "file")
    monkeypatch.setenv("SIMKIT_MASTER_KEY", Fernet.generate_key().decode())
    return tmp_path


class MemoryKeyring(KeyringBackend):
    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.values.get((service, username))

    def set_password(self, service, username, password):
        self.values[(service, username)] = password

    def delete_password(self, service, username):
        self.values.pop((service, username), None)


def _all_bytes(root) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_file_store_encrypts_and_lists_names_and_dates_only(keyhome) -> None:
    set_key("SEMRUSH_API_KEY", SENTINEL)
    assert get_key("SEMRUSH_API_KEY") == SENTINEL
    assert SENTINEL.encode() not in _all_bytes(keyhome)
    (info,) = list_keys()
    assert info.name == "SEMRUSH_API_KEY" and info.backend == "file"
    assert info.created is not None and info.last_used is not None and info.last_rotated is None
    assert SENTINEL not in json.dumps(info.to_dict())


def test_rotate_records_the_date_and_replaces_the_value(keyhome) -> None:
    set_key("META_ACCESS_TOKEN", "old-value-1234")
    rotate_key("META_ACCESS_TOKEN", SENTINEL)
    assert get_key("META_ACCESS_TOKEN") == SENTINEL
    (info,) = list_keys()
    assert info.last_rotated is not None


def test_rotate_of_an_unknown_key_and_delete_of_one_are_errors(keyhome) -> None:
    with pytest.raises(KeyStoreError, match="is not stored: set it first"):
        rotate_key("META_ACCESS_TOKEN", SENTINEL)
    with pytest.raises(KeyStoreError, match="is not stored"):
        delete_key("META_ACCESS_TOKEN")


def test_delete_removes_value_and_entry(keyhome) -> None:
    set_key("OPENAI_API_KEY", SENTINEL)
    delete_key("OPENAI_API_KEY")
    assert list_keys() == []
    with pytest.raises(KeyStoreError, match="OPENAI_API_KEY: is not set: run `simkit keys set"):
        get_key("OPENAI_API_KEY")


def test_the_environment_overrides_the_store(keyhome, monkeypatch) -> None:
    set_key("OPENAI_API_KEY", "stored-value-9999")
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    assert get_key("OPENAI_API_KEY") == SENTINEL
    assert [k.env_override for k in list_keys()] == [True]


def test_env_only_keys_are_listed_without_values(keyhome, monkeypatch) -> None:
    monkeypatch.setenv("META_ACCESS_TOKEN", SENTINEL)
    rows = [k.to_dict() for k in list_keys()]
    assert rows == [
        {
            "name": "META_ACCESS_TOKEN",
            "backend": "env",
            "created": None,
            "last_used": None,
            "last_rotated": None,
            "env_override": True,
        }
    ]


def test_no_master_key_and_no_keyring_is_a_clear_error(keyhome, monkeypatch) -> None:
    monkeypatch.delenv("SIMKIT_MASTER_KEY")
    with pytest.raises(KeyStoreError, match="SIMKIT_MASTER_KEY is not set"):
        set_key("SEMRUSH_API_KEY", SENTINEL)


def test_a_wrong_master_key_cannot_decrypt_and_says_so(keyhome, monkeypatch) -> None:
    set_key("SEMRUSH_API_KEY", SENTINEL)
    monkeypatch.setenv("SIMKIT_MASTER_KEY", Fernet.generate_key().decode())
    with pytest.raises(KeyStoreError, match="cannot decrypt it") as info:
        get_key("SEMRUSH_API_KEY")
    assert SENTINEL not in str(info.value)


def test_master_key_rotation_with_multifernet(keyhome, monkeypatch) -> None:
    old = Fernet.generate_key().decode()
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("SIMKIT_MASTER_KEY", old)
    set_key("SEMRUSH_API_KEY", SENTINEL)
    monkeypatch.setenv("SIMKIT_MASTER_KEY", f"{new},{old}")
    assert get_key("SEMRUSH_API_KEY") == SENTINEL  # the old key still decrypts
    assert rotate_master_key() == 1
    monkeypatch.setenv("SIMKIT_MASTER_KEY", new)
    assert get_key("SEMRUSH_API_KEY") == SENTINEL


def test_a_usable_keyring_holds_the_value_and_the_file_holds_none(keyhome, monkeypatch):
    monkeypatch.delenv("SIMKIT_KEYS_BACKEND")
    monkeypatch.delenv("SIMKIT_MASTER_KEY")
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        assert store_backend() == "keyring"
        set_key("META_ACCESS_TOKEN", SENTINEL)
        assert backend.values[("simkit", "META_ACCESS_TOKEN")] == SENTINEL
        assert get_key("META_ACCESS_TOKEN") == SENTINEL
        assert SENTINEL.encode() not in _all_bytes(keyhome)
        delete_key("META_ACCESS_TOKEN")
        assert backend.values == {}
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize(
    "backend", [fail.Keyring, null.Keyring, lambda: chainer.ChainerBackend()], ids=str
)
def test_fail_null_and_empty_chainer_backends_count_as_no_keyring(keyhome, monkeypatch, backend):
    monkeypatch.delenv("SIMKIT_KEYS_BACKEND")
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    previous = keyring.get_keyring()
    keyring.set_keyring(backend())
    try:
        assert store_backend() == "file"
    finally:
        keyring.set_keyring(previous)


def test_the_master_key_may_come_from_the_keyring(keyhome, monkeypatch) -> None:
    monkeypatch.delenv("SIMKIT_MASTER_KEY")
    ring = MemoryKeyring()
    ring.set_password("simkit", "__master_key__", Fernet.generate_key().decode())
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        set_key("SEMRUSH_API_KEY", SENTINEL)  # SIMKIT_KEYS_BACKEND=file: the file store
        assert ("simkit", "SEMRUSH_API_KEY") not in ring.values
        assert get_key("SEMRUSH_API_KEY") == SENTINEL
        assert SENTINEL.encode() not in _all_bytes(keyhome)
    finally:
        keyring.set_keyring(previous)


def test_scrub_removes_known_values_and_credential_parameters(keyhome) -> None:
    set_key("SEMRUSH_API_KEY", SENTINEL)
    get_key("SEMRUSH_API_KEY")
    text = f"GET /?type=phrase_this&key=abc123&phrase=x token {SENTINEL} access_token=zzz"
    cleaned = scrub(text)
    assert SENTINEL not in cleaned and "abc123" not in cleaned and "zzz" not in cleaned
    assert "key=***" in cleaned and "access_token=***" in cleaned


def test_the_log_filter_scrubs_arguments_of_library_loggers(keyhome, caplog) -> None:
    install_log_scrubber()
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(next(iter(logging.getLogger("httpx").filters)))
    logging.getLogger("httpx").info("HTTP Request: GET %s", f"https://x/?key={SENTINEL}&a=1")
    assert SENTINEL not in caplog.text
    assert "key=***" in caplog.text


# --------------------------------------------------------------------------- the CLI


def test_cli_set_reads_stdin_and_list_never_shows_the_value(keyhome) -> None:
    done = runner.invoke(app, ["keys", "set", "SEMRUSH_API_KEY"], input=SENTINEL + "\n")
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, ["keys", "list", "--format", "json"])
    assert listed.exit_code == 0
    payload = json.loads(listed.stdout)
    assert [k["name"] for k in payload["keys"]] == ["SEMRUSH_API_KEY"]
    assert SENTINEL not in done.output + listed.output
    assert get_key("SEMRUSH_API_KEY") == SENTINEL


def test_cli_refuses_a_value_on_the_command_line_without_repeating_it(keyhome) -> None:
    done = runner.invoke(app, ["keys", "set", "SEMRUSH_API_KEY", SENTINEL])
    assert done.exit_code == 1
    assert "never taken from the command line" in done.output
    assert SENTINEL not in done.output
    assert list_keys() == []


def test_cli_a_value_given_as_the_name_is_not_echoed(keyhome) -> None:
    done = runner.invoke(app, ["keys", "set", "sk-" + SENTINEL], input="x\n")
    assert done.exit_code == 1
    assert "upper-case letters" in done.output
    assert SENTINEL not in done.output


def test_cli_rotate_and_delete(keyhome) -> None:
    runner.invoke(app, ["keys", "set", "META_ACCESS_TOKEN"], input="first-value-1\n")
    rotated = runner.invoke(app, ["keys", "rotate", "META_ACCESS_TOKEN"], input=SENTINEL + "\n")
    assert rotated.exit_code == 0, rotated.output
    assert get_key("META_ACCESS_TOKEN") == SENTINEL
    deleted = runner.invoke(app, ["keys", "delete", "META_ACCESS_TOKEN"])
    assert deleted.exit_code == 0
    assert list_keys() == []


def test_cli_empty_value_is_refused(keyhome) -> None:
    done = runner.invoke(app, ["keys", "set", "META_ACCESS_TOKEN"], input="\n")
    assert done.exit_code == 1
    assert "the value is empty" in done.output


# --------------------------------------------------------------------------- review fixes


def test_the_key_files_are_0600_and_their_folder_0700(keyhome) -> None:
    set_key("SEMRUSH_API_KEY", SENTINEL)
    keys = keyhome / ".simkit-cache" / "keys"
    assert oct(keys.stat().st_mode & 0o777) == "0o700"
    for name in ("store.json", "index.json"):
        assert oct((keys / name).stat().st_mode & 0o777) == "0o600", name
    assert [p.name for p in keys.iterdir() if p.name.endswith(".tmp")] == []


def test_a_second_master_key_cannot_split_the_file_store(keyhome, monkeypatch) -> None:
    set_key("META_ACCESS_TOKEN", "first-value-1234")
    monkeypatch.setenv("SIMKIT_MASTER_KEY", Fernet.generate_key().decode())
    with pytest.raises(KeyStoreError, match=r"does not decrypt the key\(s\) already.*META_ACCESS"):
        set_key("SEMRUSH_API_KEY", SENTINEL)
    assert [k.name for k in list_keys()] == ["META_ACCESS_TOKEN"]
    store = json.loads((keyhome / ".simkit-cache" / "keys" / "store.json").read_text())
    assert list(store) == ["META_ACCESS_TOKEN"]


def test_set_reads_a_hidden_prompt_on_a_terminal(keyhome, monkeypatch) -> None:
    prompts: list[str] = []

    class Tty:
        def isatty(self) -> bool:
            return True

        def readline(self) -> str:
            raise AssertionError("a terminal is read through getpass, not readline")

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return SENTINEL

    # CliRunner swaps sys.stdin for a pipe, so the terminal branch is called directly
    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    assert _read_value("OPENAI_API_KEY") == SENTINEL
    assert prompts == ["value of OPENAI_API_KEY (hidden): "]


@pytest.mark.parametrize(
    ("master", "message"),
    [
        ("wrong", "cannot decrypt it: SIMKIT_MASTER_KEY is not the key it was stored with"),
        ("not-a-fernet-key", "SIMKIT_MASTER_KEY is not a Fernet key"),
    ],
)
def test_cli_a_wrong_master_key_is_one_line_without_the_value(
    keyhome, monkeypatch, master, message
):
    set_key("SEMRUSH_API_KEY", SENTINEL)
    value = Fernet.generate_key().decode() if master == "wrong" else master
    monkeypatch.setenv("SIMKIT_MASTER_KEY", value)
    phrases = keyhome / "p.txt"
    phrases.write_text("shoes\n")
    args = ["fetch", "semrush", "--phrases", str(phrases), "--output", str(keyhome / "k.csv")]
    done = runner.invoke(app, [*args, "--base-url", "http://127.0.0.1:9"])
    assert done.exit_code == 1
    assert done.output.count("\n") == 1 and "Traceback" not in done.output
    assert done.output.startswith("simkit fetch semrush: error: ")
    assert message in done.output
    assert SENTINEL not in done.output and value not in done.output
    assert not (keyhome / "k.csv").exists()
