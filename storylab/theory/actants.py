"""Greimas' actantial model: the six roles a character can play in a story."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ACTANT_AXES", "ActantRole"]


class ActantRole(StrEnum):
    """A character's structural role (Greimas, *Sémantique structurale*, 1966)."""

    SUBJECT = "subject"  # who wants
    OBJECT = "object"  # what (or whom) is wanted
    SENDER = "sender"  # who sets the quest going
    RECEIVER = "receiver"  # who gains when it succeeds
    HELPER = "helper"  # who aids the subject
    OPPONENT = "opponent"  # who stands in the way


#: The three axes of the model, each pairing two roles.
ACTANT_AXES: dict[str, tuple[ActantRole, ActantRole]] = {
    "desire": (ActantRole.SUBJECT, ActantRole.OBJECT),
    "transmission": (ActantRole.SENDER, ActantRole.RECEIVER),
    "power": (ActantRole.HELPER, ActantRole.OPPONENT),
}
