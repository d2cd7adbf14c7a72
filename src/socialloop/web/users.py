"""Users, login sessions and API tokens in the store (no web framework here, so the CLI can use
it too).

Passwords are hashed with Argon2id (argon2-cffi's ``PasswordHasher``, memory-hard); session and
API tokens are random (``secrets``) and stored only as their sha256, so a copy of the database
signs nobody in. Roles are ordered ``viewer < agent < analyst < admin``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from socialloop.errors import AlreadyExists, InvalidValue, NotFound
from socialloop.store import Store
from socialloop.store.schema import api_tokens, users, web_sessions

ROLES: tuple[str, ...] = ("viewer", "agent", "analyst", "admin")
"""Every role, weakest first: a role may do everything the roles before it may."""

MIN_PASSWORD = 8
TOKEN_PREFIX = "sl_"


def role_rank(role: str) -> int:
    try:
        return ROLES.index(role)
    except ValueError:
        raise InvalidValue(f"unknown role {role!r}; use one of {', '.join(ROLES)}") from None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at.replace(tzinfo=UTC).isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: its user and the token its forms must send back (CSRF)."""

    user: User
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    user: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        def iso(dt: datetime | None) -> str | None:
            return dt.replace(tzinfo=UTC).isoformat() if dt is not None else None

        return {
            "id": self.id,
            "user": self.user,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


def _user(row: Any) -> User:
    return User(id=row.id, name=row.name, role=row.role, created_at=row.created_at)


class Users:
    """The users, sessions and tokens of one store. ``hasher`` is injectable (tests may pass a
    cheaper Argon2id setting; the default is argon2-cffi's RFC 9106 low-memory profile)."""

    def __init__(self, store: Store, *, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    # -- users -------------------------------------------------------------------------------

    def add(self, name: str, role: str, password: str) -> User:
        name = name.strip()
        if not name:
            raise InvalidValue("a user needs a name")
        role_rank(role)
        if len(password) < MIN_PASSWORD:
            raise InvalidValue(f"the password is too short: use at least {MIN_PASSWORD} characters")
        hashed = self.hasher.hash(password)
        now = _now()
        with self.store.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.name == name)).first():
                raise AlreadyExists(f"user {name!r} already exists")
            conn.execute(
                insert(users).values(
                    name=name, role=role, password_hash=hashed, created_at=now, updated_at=now
                )
            )
        return self.get(name)

    def get(self, name: str) -> User:
        with self.store.begin() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise NotFound(f"no user {name!r}")
        return _user(row)

    def all(self) -> list[User]:
        with self.store.begin() as conn:
            return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]

    def remove(self, name: str) -> None:
        user = self.get(name)
        with self.store.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user.id))
            conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user.id))
            conn.execute(delete(users).where(users.c.id == user.id))

    def password_hash(self, name: str) -> str:
        with self.store.begin() as conn:
            value = conn.execute(select(users.c.password_hash).where(users.c.name == name)).scalar()
        if value is None:
            raise NotFound(f"no user {name!r}")
        return str(value)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else None (an unknown name costs as much time
        as a wrong password, so names cannot be probed by timing)."""
        with self.store.begin() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            if self._dummy is None:
                self._dummy = self.hasher.hash(secrets.token_hex(16))
            with contextlib.suppress(VerificationError, InvalidHashError):
                self.hasher.verify(self._dummy, password)
            return None
        try:
            self.hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if self.hasher.check_needs_rehash(row.password_hash):
            with self.store.begin() as conn:
                conn.execute(
                    update(users)
                    .where(users.c.id == row.id)
                    .values(password_hash=self.hasher.hash(password), updated_at=_now())
                )
        return _user(row)

    # -- sessions ----------------------------------------------------------------------------

    def start_session(self, user: User, lifetime: timedelta) -> tuple[str, Session]:
        """A new session for ``user``: (the cookie's token, the session)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = _now()
        expires = now + lifetime
        with self.store.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
            conn.execute(
                insert(web_sessions).values(
                    token_hash=token_hash(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return token, Session(user=user, csrf_token=csrf, expires_at=expires)

    def session(self, token: str) -> Session | None:
        """The live session the cookie's token names, or None (unknown or expired)."""
        with self.store.begin() as conn:
            row = conn.execute(
                select(web_sessions.c.csrf_token, web_sessions.c.expires_at, users)
                .join(users, users.c.id == web_sessions.c.user_id)
                .where(web_sessions.c.token_hash == token_hash(token))
            ).first()
        if row is None or row.expires_at <= _now():
            return None
        return Session(user=_user(row), csrf_token=row.csrf_token, expires_at=row.expires_at)

    def end_session(self, token: str) -> None:
        with self.store.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash(token)))

    # -- API tokens --------------------------------------------------------------------------

    def create_token(self, user_name: str, name: str | None = None) -> tuple[str, ApiToken]:
        """A new API token for the user: (the token, shown only now; its record)."""
        user = self.get(user_name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = _now()
        with self.store.begin() as conn:
            tid = conn.execute(
                insert(api_tokens)
                .values(
                    user_id=user.id,
                    name=name or "token",
                    token_hash=token_hash(token),
                    prefix=token[:10],
                    created_at=now,
                )
                .returning(api_tokens.c.id)
            ).scalar_one()
        return token, self._token(int(tid))

    def _select_tokens(self) -> Any:
        return select(api_tokens, users.c.name.label("user_name")).join(
            users, users.c.id == api_tokens.c.user_id
        )

    @staticmethod
    def _to_token(row: Any) -> ApiToken:
        return ApiToken(
            id=row.id,
            user=row.user_name,
            name=row.name,
            prefix=row.prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )

    def _token(self, token_id: int) -> ApiToken:
        with self.store.begin() as conn:
            row = conn.execute(self._select_tokens().where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise NotFound(f"no API token {token_id}")
        return self._to_token(row)

    def tokens(self, user_name: str | None = None) -> list[ApiToken]:
        stmt = self._select_tokens().order_by(api_tokens.c.id)
        if user_name is not None:
            stmt = stmt.where(users.c.name == user_name)
        with self.store.begin() as conn:
            return [self._to_token(r) for r in conn.execute(stmt)]

    def revoke_token(self, token_id: int) -> ApiToken:
        self._token(token_id)
        with self.store.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
        return self._token(token_id)

    def token_user(self, token: str) -> User | None:
        """The user a bearer token belongs to, or None (unknown or revoked)."""
        digest = token_hash(token)
        with self.store.begin() as conn:
            row = conn.execute(
                select(
                    api_tokens.c.id.label("token_id"),
                    api_tokens.c.token_hash,
                    api_tokens.c.revoked_at,
                    users.c.id,
                    users.c.name,
                    users.c.role,
                    users.c.created_at,
                )
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(api_tokens.c.token_hash == digest)
            ).first()
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.token_hash, digest):
                return None
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == row.token_id)
                .values(last_used_at=_now())
            )
        return _user(row)
