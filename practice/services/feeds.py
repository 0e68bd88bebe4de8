"""Feed links: create or rotate, revoke, describe, and find by token.

A link's token is 256 random bits (``secrets.token_urlsafe(32)``); only its
SHA-256 is stored, so neither the database nor the logs hold a usable link.
Each owner (clinician or room) has at most one live link: making a new one
revokes the old in the same transaction, so the old URL answers 404 from the
moment the new one is returned.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, select, update

from ..audit import record
from ..db import utcnow
from ..errors import NotFound
from ..extensions import db
from ..models import Clinician, FeedFetch, FeedToken, Room
from ..models.feeds import PRIVACY_LEVELS

# Longest token we bother hashing: ours are 43 characters.
MAX_TOKEN_LENGTH = 128
FULL_PRIVACY_WARNING = (
    "This link shows clients' full names. Anyone who gets the link (a shared "
    "calendar, a forwarded invitation, a synced phone) can read them. Prefer "
    "'initials' unless the calendar is yours alone.")


@dataclass(frozen=True)
class IssuedFeed:
    token: str  # the plain token, shown once
    row: FeedToken

    @property
    def warning(self) -> str | None:
        return FULL_PRIVACY_WARNING if self.row.privacy == "full" else None


def hash_feed_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _owner_filter(owner: Clinician | Room):
    if isinstance(owner, Clinician):
        return FeedToken.clinician_id == owner.id
    return FeedToken.room_id == owner.id


def _kind(owner: Clinician | Room) -> str:
    return "clinician" if isinstance(owner, Clinician) else "room"


def _lock_owner(owner: Clinician | Room) -> None:
    """Serialise concurrent rotations of one owner's link (PostgreSQL row lock;
    SQLite write transactions are already serial)."""
    model = type(owner)
    db.session.execute(select(model.id).where(model.id == owner.id).with_for_update())


def issue_feed(owner: Clinician | Room, privacy: str = "initials",
               user_id: int | None = None) -> IssuedFeed:
    """Create a feed link for ``owner``, revoking any live one (rotation)."""
    if privacy not in PRIVACY_LEVELS:  # the API schema refuses it first
        raise ValueError(f"unknown privacy {privacy!r}")
    _lock_owner(owner)
    now = utcnow()
    revoked = db.session.execute(
        update(FeedToken).where(_owner_filter(owner), FeedToken.revoked_at.is_(None))
        .values(revoked_at=now)).rowcount
    plain = secrets.token_urlsafe(32)
    row = FeedToken(token_hash=hash_feed_token(plain), privacy=privacy, created_by=user_id,
                    created_at=now, **{f"{_kind(owner)}_id": owner.id})
    db.session.add(row)
    db.session.flush()
    record("rotate" if revoked else "create", "feed_token", row.id,
           owner=_kind(owner), owner_id=owner.id, privacy=privacy)
    db.session.commit()
    return IssuedFeed(token=plain, row=row)


def revoke_feed(owner: Clinician | Room) -> FeedToken:
    """Revoke ``owner``'s live link; NotFound when there is none."""
    _lock_owner(owner)
    row = live_feed(owner)
    if row is None:
        raise NotFound(f"{_kind(owner).capitalize()} {owner.id} has no active feed link.")
    row.revoked_at = utcnow()
    record("revoke", "feed_token", row.id, owner=_kind(owner), owner_id=owner.id)
    db.session.commit()
    return row


def live_feed(owner: Clinician | Room) -> FeedToken | None:
    return db.session.scalar(select(FeedToken).where(
        _owner_filter(owner), FeedToken.revoked_at.is_(None))
        .order_by(FeedToken.id.desc()).limit(1))


def last_fetched_at(row: FeedToken) -> datetime | None:
    return db.session.scalar(select(func.max(FeedFetch.at))
                             .where(FeedFetch.feed_token_id == row.id))


class LiveFeed(NamedTuple):
    """What serving a feed needs of its link (no ORM object: this runs on
    every poll of every calendar app)."""

    id: int
    clinician_id: int | None
    room_id: int | None
    privacy: str


_LIVE_FEED = (select(FeedToken.id, FeedToken.clinician_id, FeedToken.room_id, FeedToken.privacy)
              .where(FeedToken.token_hash == bindparam("token_hash"),
                     FeedToken.revoked_at.is_(None)))


def find_live_feed(token: str) -> LiveFeed | None:
    """The live link whose token this is, or None (unknown or revoked)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.execute(_LIVE_FEED, {"token_hash": hash_feed_token(token)}).first()
    return None if row is None else LiveFeed(*row)
