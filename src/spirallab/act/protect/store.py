"""The encrypted case file: one authenticated ciphertext, written atomically.

Layout (all of it is read before anything is decrypted)::

    b"SPLPROT1"              8 bytes, the magic
    header length            4 bytes, big-endian
    header                   UTF-8 JSON: format, kdf and its parameters, salt, cipher, nonce,
                             key check
    ciphertext               AES-256-GCM over the JSON of :class:`~.records.Vault`, 16-byte tag

* Key: Argon2id (argon2-cffi's ``hash_secret_raw``) turns the passphrase and a random 16-byte salt
  into 32 bytes; HKDF-SHA256 splits them into the encryption key and a *key check* stored in the
  header, so a wrong passphrase is told apart from a damaged file. The parameters are RFC 9106's
  second recommended option (t=3, 64 MiB, 4 lanes) and are stored in the header, so a file opens
  with the parameters it was made with.
* The whole header (magic, length, JSON) is the associated data of the AEAD: changing any
  parameter, the salt or the nonce makes the file fail to open. Every write draws a fresh 96-bit
  nonce.
* Writes go to a temporary file in the same folder (it only ever holds ciphertext), are fsync'ed,
  then renamed over the old file, and the folder is fsync'ed: a crash leaves the old file or the
  new one, never half of one.

The passphrase is never stored; the key lives only in this process's memory (Python cannot
promise to erase it; see docs/protect.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import constant_time, hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from filelock import FileLock, Timeout

from spirallab.act.protect.records import AuditEntry, Vault
from spirallab.errors import InputError

MAGIC = b"SPLPROT1"
FILE_FORMAT = 1
CIPHER = "AES-256-GCM"

#: Argon2id parameters for new files (RFC 9106, section 4, second recommended option).
KDF_TIME_COST = 3
KDF_MEMORY_KIB = 64 * 1024
KDF_PARALLELISM = 4
SALT_BYTES = 16
NONCE_BYTES = 12

# Bounds on what a header may ask for, so a tampered header cannot make opening take hours or
# all the memory, nor weaken the key below what new files get.
_KDF_BOUNDS = {"t": (KDF_TIME_COST, 64), "m": (KDF_MEMORY_KIB, 1024 * 1024),
               "p": (1, 64)}
MAX_HEADER = 4096
MAX_FILE = 64 * 1024 * 1024
MIN_PASSPHRASE = 12


@dataclass(frozen=True)
class _Key:
    salt: bytes
    t: int
    m: int
    p: int
    enc: bytes
    check: bytes


def _derive(passphrase: str, salt: bytes, t: int, m: int, p: int) -> _Key:
    master = hash_secret_raw(passphrase.encode("utf-8"), salt, time_cost=t, memory_cost=m,
                             parallelism=p, hash_len=32, type=Type.ID)

    def sub(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)

    return _Key(salt, t, m, p, sub(b"spirallab-protect enc"), sub(b"spirallab-protect check"))


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _header(key: _Key, nonce: bytes) -> bytes:
    head = {"format": FILE_FORMAT, "kdf": "argon2id", "t": key.t, "m_kib": key.m, "p": key.p,
            "salt": _b64(key.salt), "cipher": CIPHER, "nonce": _b64(nonce),
            "check": _b64(key.check)}
    body = json.dumps(head, sort_keys=True, separators=(",", ":")).encode("ascii")
    return MAGIC + struct.pack(">I", len(body)) + body


def _damaged(path: Path, why: str) -> InputError:
    return InputError(f"not a readable case file ({why}); the file was left as it is", file=path)


def _parse_header(path: Path, blob: bytes) -> tuple[bytes, dict[str, Any], bytes]:
    """(associated data, header fields, ciphertext), or an error saying what is wrong."""
    if len(blob) < len(MAGIC) + 4:
        raise _damaged(path, "too short: truncated or empty")
    if blob[: len(MAGIC)] != MAGIC:
        raise _damaged(path, "no Spiral Lab case-file header")
    (n,) = struct.unpack(">I", blob[len(MAGIC): len(MAGIC) + 4])
    start = len(MAGIC) + 4
    if n > MAX_HEADER or len(blob) < start + n:
        raise _damaged(path, "header truncated or altered")
    try:
        head = json.loads(blob[start: start + n].decode("ascii"))
        if not isinstance(head, dict):
            raise ValueError
        fields: dict[str, Any] = {
            "format": int(head["format"]), "kdf": str(head["kdf"]), "cipher": str(head["cipher"]),
            "t": int(head["t"]), "m": int(head["m_kib"]), "p": int(head["p"]),
            "salt": base64.b64decode(head["salt"], validate=True),
            "nonce": base64.b64decode(head["nonce"], validate=True),
            "check": base64.b64decode(head["check"], validate=True),
        }
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise _damaged(path, "header altered or damaged") from None
    if fields["format"] != FILE_FORMAT or fields["kdf"] != "argon2id" or fields["cipher"] != CIPHER:
        raise _damaged(path, "unsupported format version, key derivation or cipher")
    for name, (lo, hi) in _KDF_BOUNDS.items():
        if not lo <= fields[name] <= hi:
            raise _damaged(path, f"key-derivation parameter {name} outside {lo}..{hi}")
    if len(fields["salt"]) != SALT_BYTES or len(fields["nonce"]) != NONCE_BYTES \
            or len(fields["check"]) != 32:
        raise _damaged(path, "header altered or damaged")
    ciphertext = blob[start + n:]
    if len(ciphertext) < 16:
        raise _damaged(path, "ciphertext truncated")
    return blob[: start + n], fields, ciphertext


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: temp file in the same folder, fsync, rename, fsync folder."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass  # some filesystems refuse fsync on folders; the rename itself has happened
    finally:
        os.close(dfd)


def _lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


class CaseStore:
    """An open case file: the decrypted :class:`Vault` and the key to write it back.

    Use :func:`create` and :func:`open_store`; change ``vault`` and call :meth:`save`.
    """

    def __init__(self, path: Path, key: _Key, vault: Vault, user: str) -> None:
        self.path = path
        self._key = key
        self.vault = vault
        self.user = user

    def log(self, action: str, record: str | None = None) -> None:
        """Add an audit entry (saved with the next :meth:`save`)."""
        self.vault.audit.append(AuditEntry(time=dt.datetime.now(dt.UTC).replace(microsecond=0),
                                           user=self.user, action=action, record=record))

    def save(self) -> None:
        """Encrypt the vault under a fresh nonce and replace the file atomically."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        head = _header(self._key, nonce)
        plain = self.vault.model_dump_json().encode("utf-8")
        if len(plain) > MAX_FILE:
            raise InputError(f"the case file would exceed {MAX_FILE // (1024 * 1024)} MiB; "
                             "nothing was saved", file=self.path)
        blob = head + AESGCM(self._key.enc).encrypt(nonce, plain, head)
        atomic_write(self.path, blob)


def check_passphrase(passphrase: str) -> None:
    """A new passphrase must be long enough to resist offline guessing for a while."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise InputError(f"passphrase too short; expected at least {MIN_PASSPHRASE} characters "
                         "(several random words; see docs/protect.md)", where="passphrase")


def create(path: Path, passphrase: str, user: str) -> CaseStore:
    """Create a new, empty case file; refuses to overwrite an existing file."""
    check_passphrase(passphrase)
    if path.exists():
        raise InputError("a file already exists there; choose another name or `protect wipe` it",
                         file=path)
    if not path.parent.is_dir():
        raise InputError("folder not found", file=path.parent)
    key = _derive(passphrase, secrets.token_bytes(SALT_BYTES), KDF_TIME_COST, KDF_MEMORY_KIB,
                  KDF_PARALLELISM)
    store = CaseStore(path, key, Vault(created=dt.datetime.now(dt.UTC).replace(microsecond=0)),
                      user)
    store.log("init")
    with FileLock(_lock_path(path), timeout=10, mode=0o600):
        if path.exists():
            raise InputError("a file already exists there", file=path)
        store.save()
    return store


def decrypt(path: Path, blob: bytes, passphrase: str) -> tuple[_Key, Vault]:
    """Check and decrypt a case file's bytes."""
    aad, f, ciphertext = _parse_header(path, blob)
    key = _derive(passphrase, f["salt"], f["t"], f["m"], f["p"])
    if not constant_time.bytes_eq(key.check, f["check"]):
        raise InputError("wrong passphrase (or the file's header was altered); nothing was "
                         "changed", file=path)
    try:
        plain = AESGCM(key.enc).decrypt(f["nonce"], ciphertext, aad)
    except InvalidTag:
        raise _damaged(path, "authentication failed: the file was altered, truncated or "
                       "damaged") from None
    try:
        vault = Vault.model_validate_json(plain)
    except ValueError:
        raise _damaged(path, "contents do not match this version of Spiral Lab") from None
    return key, vault


def open_store(path: Path, passphrase: str, user: str) -> CaseStore:
    """Open and decrypt a case file; every failure is one :class:`InputError` line."""
    if not path.is_file():
        raise InputError("case file not found", file=path,
                         expected="a file made by `spirallab protect init`")
    size = path.stat().st_size
    if size > MAX_FILE + MAX_HEADER + 64:
        raise _damaged(path, "far larger than any case file")
    key, vault = decrypt(path, path.read_bytes(), passphrase)
    return CaseStore(path, key, vault, user)


def transact(path: Path, passphrase: str, user: str, action: str,
             record: str | Callable[[Any], str] | None,
             change: Callable[[CaseStore], Any]) -> Any:
    """Open, apply ``change``, log ``action`` and save, under a lock on the file.

    ``change`` runs on the decrypted vault; if it raises, nothing is written. Reading commands
    use this too, so the audit log records who read what. ``record`` may be a function of
    ``change``'s result (the id of a record that ``change`` created).
    """
    try:
        with FileLock(_lock_path(path), timeout=10, mode=0o600):
            store = open_store(path, passphrase, user)
            result = change(store)
            store.log(action, record(result) if callable(record) else record)
            store.save()
            return result
    except Timeout:
        raise InputError("another command is using this case file; try again", file=path) \
            from None


def rekey(path: Path, old: str, new: str, user: str) -> None:
    """Re-encrypt the file under a new passphrase and a new salt."""
    check_passphrase(new)

    def change(store: CaseStore) -> None:
        store._key = _derive(new, secrets.token_bytes(SALT_BYTES), KDF_TIME_COST,
                             KDF_MEMORY_KIB, KDF_PARALLELISM)

    transact(path, old, user, "passwd", None, change)


def wipe(path: Path, passes: int = 1) -> None:
    """Overwrite the file (and its lock and any leftover temp files) with random bytes, then
    delete them. On SSDs and journaling or copy-on-write filesystems the old blocks may survive;
    see docs/protect.md."""
    if not path.is_file():
        raise InputError("case file not found", file=path)
    leftovers = [p for p in path.parent.glob(f".{path.name}.*.tmp") if p.is_file()]
    for victim in [path, *leftovers]:
        size = victim.stat().st_size
        with open(victim, "r+b", buffering=0) as fh:
            for _ in range(passes):
                fh.seek(0)
                left = size
                while left > 0:
                    chunk = min(left, 1 << 20)
                    fh.write(secrets.token_bytes(chunk))
                    left -= chunk
                os.fsync(fh.fileno())
        victim.unlink()
    _lock_path(path).unlink(missing_ok=True)
