"""Writes for accounts: registration, password login, token pairs (issue/rotate/revoke), API keys,
organizations and their memberships.

Security rules that live here (contract 4, seed error-handling.txt):
- a failed login gives the same error and costs the same hashing work whether the email is unknown,
  the password is wrong or the account cannot log in with a password: user existence is not disclosed;
- refresh tokens and API keys are stored only as SHA-256 digests;
- a refresh token works once: using it deletes its row (rotation), so a replay is 401.
"""

import datetime as dt
import functools
import logging

from django.conf import settings
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, get_random_string

from apps.core.exceptions import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized

from . import tokens
from .models import (
    ANONYMOUS_EMAIL,
    ANONYMOUS_USER_ID,
    DEFAULT_ORG_ID,
    ApiKey,
    Membership,
    Organization,
    RefreshToken,
    User,
)
from .selectors import ADMIN_ROLES, default_membership, roles_for

logger = logging.getLogger("everruns.auth")

INVALID_LOGIN = "Invalid email or password"
WEAK_PASSWORD = (
    "Password is too weak: use at least 8 characters, not a common password, not only digits "
    "and not similar to your email or name"
)
# last_used_at is "fire-and-forget" (contract 3.10); writing it at most once a minute keeps a busy
# key from turning every request into a row update.
API_KEY_LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


@functools.lru_cache(maxsize=8)
def _dummy_hash(algorithm: str) -> str:
    return make_password(get_random_string(32), hasher=algorithm)


def _burn_password_check(password: str) -> None:
    """Run the configured hasher once, as a real password check would (timing equalisation)."""
    check_password(password, _dummy_hash(get_hasher().algorithm))


def normalize_email(email: str) -> str:
    return email.strip().lower()


# --------------------------------------------------------------------------- AUTH_MODE=none
@transaction.atomic
def anonymous_user_ensure() -> User:
    """The anonymous admin of AUTH_MODE=none and its default organization, recreated when missing.

    A data migration creates both; this puts them back after someone deleted them (Django admin, a
    database flush), so none mode never turns into "401 for everyone".
    """
    organization, _ = Organization.objects.get_or_create(id=DEFAULT_ORG_ID, defaults={"name": "Default"})
    user, _ = User.objects.get_or_create(
        id=ANONYMOUS_USER_ID,
        defaults={"email": ANONYMOUS_EMAIL, "name": "Anonymous", "auth_provider": "none", "password": "!"},
    )
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": "admin"})
    return user


# --------------------------------------------------------------------------- password login
def _admin_mode_account(*, email: str, password: str) -> User | None:
    """AUTH_MODE=admin: the env-configured admin (created on first successful login, contract 4.1).

    Returns None when `email` is not the configured admin. The environment is the source of truth
    for the password; the stored hash follows it so Django admin accepts the same credentials.
    """
    admin_email = normalize_email(settings.AUTH_ADMIN_EMAIL or "")
    if not admin_email or email != admin_email:
        return None
    if not settings.AUTH_ADMIN_PASSWORD or not constant_time_compare(password, settings.AUTH_ADMIN_PASSWORD):
        _burn_password_check(password)
        raise Unauthorized(INVALID_LOGIN, log_detail="admin mode: wrong password for the configured admin")
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, name=email.split("@")[0], auth_provider="local")
    if not user.check_password(password):
        user.set_password(password)
    user.is_active = True
    user.save()
    Membership.objects.update_or_create(user=user, organization_id=DEFAULT_ORG_ID, defaults={"role": "admin"})
    return user


@transaction.atomic
def user_authenticate(*, email: str, password: str) -> User:
    """Check a password login; returns the user or raises Unauthorized("Invalid email or password").

    The same message and about the same hashing cost for an unknown email, an inactive or
    password-less (OAuth-only, anonymous) account and a wrong password. In admin mode the
    configured admin account is created or updated on a successful login.
    """
    if settings.AUTH_MODE not in {"admin", "full"} or settings.AUTH_DISABLE_PASSWORD:
        raise Unauthorized("Password authentication is disabled")
    email = normalize_email(email)
    if settings.AUTH_MODE == "admin":
        admin = _admin_mode_account(email=email, password=password)
        if admin is not None:
            return admin
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        _burn_password_check(password)
        raise Unauthorized(INVALID_LOGIN, log_detail="login: unknown, inactive or password-less account")
    if not user.check_password(password):
        raise Unauthorized(INVALID_LOGIN, log_detail=f"login: wrong password for user {user.pk}")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


@transaction.atomic
def user_register(*, email: str, password: str, name: str) -> User:
    """Create a local user and place them per AUTH_SIGNUP_ORGANIZATION.

    "default" (the default, the contract's role model): a member of the default organization, roles
    ["user"]; an admin there grants more. "own" (hosted multi-tenant): the owner of a new organization.

    Raises Forbidden when registration is off (admin/none/external mode, AUTH_DISABLE_SIGNUP,
    AUTH_DISABLE_PASSWORD), Conflict("Email already registered"), InvalidRequest for a weak password.
    """
    if settings.AUTH_MODE != "full" or settings.AUTH_DISABLE_SIGNUP:
        raise Forbidden("Registration is disabled")
    if settings.AUTH_DISABLE_PASSWORD:
        raise Forbidden("Password registration is disabled")
    email = normalize_email(email)
    name = name.strip()
    candidate = User(email=email, name=name, auth_provider="local")
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise InvalidRequest(WEAK_PASSWORD, log_detail="; ".join(exc.messages)) from None
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("Email already registered")
    candidate.set_password(password)
    candidate.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:  # a concurrent registration with the same email won the race
        raise Conflict("Email already registered") from None
    if settings.AUTH_SIGNUP_ORGANIZATION == "own":
        organization_create(user=candidate, name=f"{name or email}'s organization")
    else:
        organization, _ = Organization.objects.get_or_create(id=DEFAULT_ORG_ID, defaults={"name": "Default"})
        Membership.objects.create(user=candidate, organization=organization, role="member")
    return candidate


# --------------------------------------------------------------------------- organizations and memberships
# API roles (contract 3.11) <-> membership roles. "owner" (the creator of an organization) reads as admin.
MEMBERSHIP_ROLE_FOR = {"admin": "admin", "user": "member"}
LAST_ADMIN = "An organization must keep at least one admin"


@transaction.atomic
def organization_create(*, user: User, name: str) -> Organization:
    """A new organization with `user` as its owner (admin there)."""
    organization = Organization(name=name.strip())
    organization.full_clean()
    organization.save()
    Membership.objects.create(user=user, organization=organization, role="owner")
    return organization


@transaction.atomic
def organization_update(*, organization: Organization, name: str | None = None) -> Organization:
    if name is not None:
        organization.name = name.strip()
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def membership_add(*, organization: Organization, email: str, role: str) -> Membership:
    """Add an existing user (by email) with an API role ("admin" | "user").

    Raises NotFound("User not found") for an unknown or inactive email, Conflict when already a member.
    """
    user = User.objects.filter(email__iexact=normalize_email(email), is_active=True).first()
    if user is None:
        raise NotFound("User not found")
    membership = Membership(user=user, organization=organization, role=MEMBERSHIP_ROLE_FOR[role])
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:
        raise Conflict("User is already a member of this organization") from None
    return membership


def _ensure_another_admin(*, membership: Membership) -> None:
    """Refuse to leave `membership`'s organization without an admin (rows locked: concurrent demotions serialize)."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role__in=ADMIN_ROLES)
        .values_list("pk", flat=True)
    )
    if membership.role in ADMIN_ROLES and [pk for pk in admins if pk != membership.pk] == []:
        raise Conflict(LAST_ADMIN)


@transaction.atomic
def membership_update(*, membership: Membership, role: str) -> Membership:
    """Change a member's role (API role "admin" | "user"); the last admin cannot be demoted (409)."""
    new_role = MEMBERSHIP_ROLE_FOR[role]
    if membership.role in ADMIN_ROLES and new_role not in ADMIN_ROLES:
        _ensure_another_admin(membership=membership)
    if not (membership.role == "owner" and new_role == "admin"):  # an owner asked to be admin stays owner
        membership.role = new_role
    membership.save()
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a user from an organization (their API keys there stop working: 403); never the last admin (409)."""
    _ensure_another_admin(membership=membership)
    membership.delete()


# --------------------------------------------------------------------------- token pairs
@transaction.atomic
def token_pair_issue(*, user: User) -> tokens.TokenPair:
    """A new access + refresh pair; the refresh token's hash is stored (and the user's expired rows pruned)."""
    now = timezone.now()
    membership = default_membership(user=user)
    roles = roles_for(user=user, membership_role=membership.role if membership else None)
    access = tokens.encode_access(user_id=str(user.pk), email=user.email, name=user.name, roles=roles)
    refresh, exp = tokens.encode_refresh(user_id=str(user.pk))
    RefreshToken.objects.filter(user=user, expires_at__lte=now).delete()
    RefreshToken.objects.create(
        user=user, token_hash=tokens.sha256_hex(refresh), expires_at=dt.datetime.fromtimestamp(exp, dt.UTC)
    )
    return tokens.TokenPair(access, refresh, settings.AUTH_JWT_ACCESS_TOKEN_LIFETIME)


@transaction.atomic
def token_pair_rotate(*, refresh_token: str) -> tuple[User, tokens.TokenPair]:
    """Exchange a refresh token for a new pair (contract 4.5); the presented token stops working.

    Raises Unauthorized: "Invalid refresh token" (bad signature/type, unknown, already used or
    revoked), "Refresh token expired", "User not found" (deleted or deactivated meanwhile).
    """
    try:
        claims = tokens.decode(refresh_token, expected_type=tokens.REFRESH)
    except tokens.TokenExpired:
        raise Unauthorized("Refresh token expired") from None
    except tokens.TokenInvalid:
        raise Unauthorized("Invalid refresh token") from None
    row = RefreshToken.objects.filter(token_hash=tokens.sha256_hex(refresh_token)).first()
    if row is None or str(row.user_id) != claims["sub"]:
        raise Unauthorized("Invalid refresh token", log_detail=f"refresh token reuse or revoked (sub {claims['sub']})")
    if row.expires_at <= timezone.now():
        raise Unauthorized("Refresh token expired")
    # Deleting by primary key and checking the count makes two concurrent uses of one token
    # produce exactly one new pair.
    deleted, _ = RefreshToken.objects.filter(pk=row.pk).delete()
    if not deleted:
        raise Unauthorized("Invalid refresh token", log_detail="refresh token used concurrently")
    user = User.objects.filter(pk=row.user_id, is_active=True).first()
    if user is None:
        raise Unauthorized("User not found")
    return user, token_pair_issue(user=user)


@transaction.atomic
def refresh_token_revoke(*, refresh_token: str) -> None:
    """Forget a refresh token (logout). Unknown or malformed tokens are ignored: logout always succeeds."""
    RefreshToken.objects.filter(token_hash=tokens.sha256_hex(refresh_token)).delete()


# --------------------------------------------------------------------------- API keys
@transaction.atomic
def api_key_create(
    *,
    user: User,
    organization: Organization,
    name: str,
    scopes: list[str] | None = None,
    expires_in_days: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for `user` acting in `organization`; returns the row and the full key (shown once)."""
    raw_key = tokens.generate_api_key()
    now = timezone.now()
    api_key = ApiKey(
        user=user,
        organization=organization,
        name=name.strip(),
        key_hash=tokens.sha256_hex(raw_key),
        key_prefix=tokens.api_key_display_prefix(raw_key),
        scopes=list(scopes) if scopes else ["*"],
        expires_at=now + dt.timedelta(days=expires_in_days) if expires_in_days else None,
        created_at=now,
    )
    api_key.full_clean()
    api_key.save()
    return api_key, raw_key


@transaction.atomic
def api_key_delete(*, api_key: ApiKey) -> None:
    """Revoke a key: the row is deleted, so the key answers 401 from the next request on."""
    api_key.delete()


def api_key_mark_used(*, api_key: ApiKey) -> None:
    """Record `last_used_at` (at most once a minute). Never fails the request that used the key."""
    now = timezone.now()
    try:
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_KEY_LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    except DatabaseError:
        logger.warning("could not record last_used_at for API key %s", api_key.pk, exc_info=True)
