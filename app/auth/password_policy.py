"""Passwords a district can defend (NIST SP 800-63B): at least `MIN_LENGTH` characters, up to
128 (never a maximum below 64), and none of the commonest breached passwords, from the list
shipped beside this module (compared without case or surrounding spaces). Nothing else:
no composition rules, no forced rotation."""

from functools import cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 128
_LIST = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def check_password(value: str) -> str:
    """The password as given, if a district can defend it (ValueError otherwise)."""
    if value.strip().lower() in common_passwords():
        raise ValueError("is one of the most common passwords; choose another")
    return value
