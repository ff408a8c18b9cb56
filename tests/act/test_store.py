"""The encrypted case file: round trip, wrong passphrase, tampering, truncation, atomic writes."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from spirallab.act.protect import store as st
from spirallab.act.protect.records import Case
from spirallab.errors import InputError

PW = "a long enough passphrase"


def _case() -> Case:
    return Case.model_validate({
        "id": "c1", "opened": "2026-01-02",
        "defender": {"alias": "Kestrel", "work": "documents evictions in the delta",
                     "location": {"country": "KEN", "area": "rural"}},
    })


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "f.spl"
    s = st.create(path, PW, "desk")
    s.vault.cases["c1"] = _case()
    s.save()
    return path


def _header(blob: bytes) -> dict[str, object]:
    (n,) = struct.unpack(">I", blob[8:12])
    return dict(json.loads(blob[12:12 + n]))


def test_round_trip_and_stated_parameters(case_file: Path) -> None:
    blob = case_file.read_bytes()
    assert blob.startswith(st.MAGIC) and b"Kestrel" not in blob and b"delta" not in blob
    head = _header(blob)
    assert head["kdf"] == "argon2id" and head["cipher"] == "AES-256-GCM"
    assert (head["t"], head["m_kib"], head["p"]) == (3, 65536, 4)
    s = st.open_store(case_file, PW, "desk")
    assert s.vault.cases["c1"].defender.alias == "Kestrel"
    assert [e.action for e in s.vault.audit] == ["init"]


def test_fresh_nonce_per_write_same_salt(case_file: Path) -> None:
    before = case_file.read_bytes()
    s = st.open_store(case_file, PW, "desk")
    s.save()
    after = case_file.read_bytes()
    assert _header(before)["salt"] == _header(after)["salt"]
    assert _header(before)["nonce"] != _header(after)["nonce"]
    assert before[-64:] != after[-64:]


def test_wrong_passphrase_is_one_clear_error_and_changes_nothing(case_file: Path) -> None:
    before = case_file.read_bytes()
    with pytest.raises(InputError, match="wrong passphrase") as err:
        st.transact(case_file, "not the passphrase", "x", "assess", "c1", lambda s: None)
    assert err.value.exit_code == 2
    assert case_file.read_bytes() == before


@pytest.mark.parametrize("where", ["ciphertext", "tag", "header-nonce", "header-t"])
def test_tampering_is_detected(case_file: Path, where: str) -> None:
    blob = bytearray(case_file.read_bytes())
    (n,) = struct.unpack(">I", blob[8:12])
    if where == "ciphertext":
        blob[12 + n + 5] ^= 0x01
    elif where == "tag":
        blob[-1] ^= 0x80
    else:
        head = _header(bytes(blob))
        if where == "header-nonce":
            nonce = bytearray(__import__("base64").b64decode(str(head["nonce"])))
            nonce[0] ^= 1
            head["nonce"] = __import__("base64").b64encode(bytes(nonce)).decode()
        else:
            head["t"] = 4
        body = json.dumps(head, sort_keys=True, separators=(",", ":")).encode()
        blob = bytearray(st.MAGIC + struct.pack(">I", len(body)) + body + blob[12 + n:])
    case_file.write_bytes(bytes(blob))
    with pytest.raises(InputError) as err:
        st.open_store(case_file, PW, "desk")
    msg = str(err.value)
    assert "altered" in msg and "\n" not in msg
    assert case_file.read_bytes() == bytes(blob)  # left as it is


@pytest.mark.parametrize("keep", [0, 5, 11, 40, -17, -1])
def test_truncation_is_detected(case_file: Path, keep: int) -> None:
    blob = case_file.read_bytes()
    case_file.write_bytes(blob[:keep] if keep >= 0 else blob[:len(blob) + keep])
    with pytest.raises(InputError, match="not a readable case file"):
        st.open_store(case_file, PW, "desk")


def test_failed_change_writes_nothing_and_leaves_no_temp_file(case_file: Path) -> None:
    before = case_file.read_bytes()

    def boom(s: st.CaseStore) -> None:
        s.vault.cases.clear()
        raise InputError("refused")

    with pytest.raises(InputError):
        st.transact(case_file, PW, "desk", "x", None, boom)
    assert case_file.read_bytes() == before
    assert not list(case_file.parent.glob("*.tmp"))


def test_crash_during_write_keeps_the_old_file(case_file: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    before = case_file.read_bytes()

    def no_rename(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", no_rename)
    s = st.open_store(case_file, PW, "desk")
    s.vault.cases.clear()
    with pytest.raises(OSError):
        s.save()
    assert case_file.read_bytes() == before
    assert not list(case_file.parent.glob("*.tmp"))


def test_init_refuses_short_passphrase_and_overwrite(tmp_path: Path, case_file: Path) -> None:
    with pytest.raises(InputError, match="too short"):
        st.create(tmp_path / "new.spl", "short", "desk")
    assert not (tmp_path / "new.spl").exists()
    before = case_file.read_bytes()
    with pytest.raises(InputError, match="already exists"):
        st.create(case_file, PW, "desk")
    assert case_file.read_bytes() == before


def test_header_cannot_weaken_or_blow_up_the_key_derivation(case_file: Path) -> None:
    blob = case_file.read_bytes()
    (n,) = struct.unpack(">I", blob[8:12])
    for field, value in (("m_kib", 1024), ("m_kib", 1 << 30), ("t", 1)):
        head = _header(blob)
        head[field] = value
        body = json.dumps(head, sort_keys=True, separators=(",", ":")).encode()
        case_file.write_bytes(st.MAGIC + struct.pack(">I", len(body)) + body + blob[12 + n:])
        with pytest.raises(InputError, match="outside"):
            st.open_store(case_file, PW, "desk")


def test_wipe_overwrites_before_deleting(case_file: Path, tmp_path: Path) -> None:
    st.transact(case_file, PW, "desk", "list", None, lambda s: None)  # creates the lock file
    # a second link to the same inode shows what happened to the data blocks
    twin = tmp_path / "twin"
    os.link(case_file, twin)
    original = twin.read_bytes()
    st.wipe(case_file)
    assert not case_file.exists() and not (tmp_path / ".f.spl.lock").exists()
    left = twin.read_bytes()
    assert len(left) == len(original) and not left.startswith(st.MAGIC)
    assert sum(a == b for a, b in zip(left, original, strict=True)) < len(original) // 16


def test_passphrase_change_uses_a_new_salt(case_file: Path) -> None:
    salt = _header(case_file.read_bytes())["salt"]
    st.rekey(case_file, PW, "another long passphrase", "desk")
    assert _header(case_file.read_bytes())["salt"] != salt
    with pytest.raises(InputError, match="wrong passphrase"):
        st.open_store(case_file, PW, "desk")
    s = st.open_store(case_file, "another long passphrase", "desk")
    assert "c1" in s.vault.cases and s.vault.audit[-1].action == "passwd"
