"""What the outbox holds is sealed: an email's text and calendar part are encrypted with a key
derived from SECRET_KEY (Fernet: AES-128-CBC with an HMAC-SHA256, from `cryptography`) until the
worker sends them, and emptied once sent.

Activation and reset tokens are stored only as hashes, so that a copy of the database (a
backup, a replica, a leaked dump) gives nobody a way into an account; an email carrying such a
link in the clear until it is sent, and forever after, would undo that. Sealed, the link is read
only by a process that holds SECRET_KEY, which signs every access token anyway.

A message sealed under another SECRET_KEY (the key was changed while it waited) cannot be
opened: the worker gives up on it and says why (`Unreadable`)."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PURPOSE = b"peercoach outbox v1"


class Unreadable(Exception):
    """A sealed message this SECRET_KEY does not open."""


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    # A key of its own (HKDF), never SECRET_KEY itself: what signs tokens does not encrypt.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret_key: str, text: str) -> str:
    return _fernet(secret_key).encrypt(text.encode()).decode("ascii")


def unseal(secret_key: str, sealed: str) -> str:
    try:
        return _fernet(secret_key).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise Unreadable("sealed under another SECRET_KEY") from exc
