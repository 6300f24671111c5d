"""/v1/auth/* (contract 2.2, 4.6), /v1/users (contract 2.10) and /v1/orgs (spec tag Organizations)."""

import uuid
from typing import Any, cast

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from apps.core import ids
from apps.core.exceptions import NotFound, Unauthorized
from apps.core.pagination import DataEnvelope
from apps.core.permissions import IsAdmin, request_membership, request_organization

from . import services
from .authentication import ACCESS_COOKIE, REFRESH_COOKIE
from .models import Membership, Organization, User
from .permissions import IsOrgAdmin
from .selectors import api_key_list, member_get, membership_in, organization_list, user_list
from .serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    AuthConfigSerializer,
    LoginSerializer,
    MemberAddSerializer,
    MemberUpdateSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
    OrganizationUpdateSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenResponseSerializer,
    UserInfoSerializer,
    UserSerializer,
)
from .throttling import AuthRateThrottle, RateLimitHeadersMixin
from .tokens import TokenPair

# Public routes read no credentials at all: a stale cookie must not turn login into a 401.
PUBLIC: dict[str, Any] = {"authentication_classes": [], "permission_classes": [AllowAny]}
CREDENTIAL_ROUTE: dict[str, Any] = {**PUBLIC, "throttle_classes": [AuthRateThrottle]}


def refresh_cookie_path() -> str:
    """The refresh cookie only travels to /v1/auth (behind API_PREFIX when one is set)."""
    prefix = f"/{settings.API_PREFIX}" if settings.API_PREFIX else ""
    return f"{prefix}/v1/auth"


def set_auth_cookies(response: Response, pair: TokenPair) -> Response:
    """Contract 4.4. `Secure` follows AUTH_COOKIE_SECURE (on unless DEBUG) so plain-HTTP dev works."""
    response.set_cookie(
        ACCESS_COOKIE,
        pair.access_token,
        max_age=pair.expires_in,
        path="/",
        secure=settings.AUTH_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=settings.AUTH_JWT_REFRESH_TOKEN_LIFETIME,
        path=refresh_cookie_path(),
        secure=settings.AUTH_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


def token_response(pair: TokenPair, status_code: int = status.HTTP_200_OK) -> Response:
    """TokenResponse in the body and the same tokens as cookies (login, register, refresh)."""
    return set_auth_cookies(Response(pair.as_response(), status=status_code), pair)


def clear_auth_cookies(response: Response) -> Response:
    # A cookie is only removed when deleted with the path it was set with.
    response.delete_cookie(ACCESS_COOKIE, path="/", samesite="Lax")
    response.delete_cookie(REFRESH_COOKIE, path=refresh_cookie_path(), samesite="Strict")
    return response


def _reject_in_external_mode() -> None:
    """External mode: an outside identity provider owns login, so these routes do not exist (404)."""
    if settings.AUTH_MODE == "external":
        raise NotFound()


def _password_auth_enabled() -> bool:
    return settings.AUTH_MODE in {"admin", "full"} and not settings.AUTH_DISABLE_PASSWORD


class AuthViewSet(RateLimitHeadersMixin, viewsets.GenericViewSet):
    """Login, registration, token refresh, logout and the caller's identity."""

    serializer_class = TokenResponseSerializer
    pagination_class = None

    @extend_schema(operation_id="auth_config", responses={200: AuthConfigSerializer}, auth=[])
    @action(detail=False, methods=["get"], url_path="config", **PUBLIC)
    def config(self, request):
        """Which ways of signing in this server offers (public)."""
        password = _password_auth_enabled()
        body = {
            "mode": settings.AUTH_MODE,
            "password_auth_enabled": password,
            "oauth_providers": [],  # OAuth is not implemented yet (docs/auth.md)
            "signup_enabled": password and settings.AUTH_MODE == "full" and not settings.AUTH_DISABLE_SIGNUP,
        }
        return Response(AuthConfigSerializer(body).data)

    @extend_schema(
        operation_id="auth_login",
        request=LoginSerializer,
        auth=[],
        responses={200: TokenResponseSerializer, 401: OpenApiResponse(description="Invalid email or password")},
    )
    @action(detail=False, methods=["post"], url_path="login", **CREDENTIAL_ROUTE)
    def login(self, request):
        """Password login: a token pair in the body and as cookies. Throttled per client IP."""
        _reject_in_external_mode()
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_authenticate(**serializer.validated_data)
        return token_response(services.token_pair_issue(user=user))

    @extend_schema(
        operation_id="auth_register",
        request=RegisterSerializer,
        auth=[],
        responses={
            201: TokenResponseSerializer,
            403: OpenApiResponse(description="Registration is disabled"),
            409: OpenApiResponse(description="Email already registered"),
        },
    )
    @action(detail=False, methods=["post"], url_path="register", **CREDENTIAL_ROUTE)
    def register(self, request):
        """Create an account (full mode) with an organization of its own; signs the new user in."""
        _reject_in_external_mode()
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return token_response(services.token_pair_issue(user=user), status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="auth_refresh",
        request=RefreshSerializer,
        auth=[],
        responses={200: TokenResponseSerializer, 401: OpenApiResponse(description="Invalid refresh token")},
    )
    @action(detail=False, methods=["post"], url_path="refresh", **CREDENTIAL_ROUTE)
    def refresh(self, request):
        """Exchange a refresh token (body or cookie) for a new pair; the old one stops working."""
        _reject_in_external_mode()
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = serializer.validated_data.get("refresh_token") or request.COOKIES.get(REFRESH_COOKIE)
        if not token:
            raise Unauthorized("Invalid refresh token")
        _, pair = services.token_pair_rotate(refresh_token=token)
        return token_response(pair)

    @extend_schema(
        operation_id="auth_logout",
        # Logout works whatever the body is; `{"refresh_token": "…"}` also forgets that token.
        request={"application/json": OpenApiTypes.ANY},
        auth=[],
        responses={200: OpenApiResponse(description="Empty body; both cookies are cleared.")},
    )
    @action(detail=False, methods=["post"], url_path="logout", **PUBLIC)
    def logout(self, request):
        """Clear the auth cookies and forget the presented refresh token. Always 200."""
        try:
            body = request.data if isinstance(request.data, dict) else {}
        except ParseError:  # logging out must work whatever the body looks like
            body = {}
        token = body.get("refresh_token") or request.COOKIES.get(REFRESH_COOKIE)
        if isinstance(token, str) and token:
            services.refresh_token_revoke(refresh_token=token)
        return clear_auth_cookies(Response(status=status.HTTP_200_OK))

    @extend_schema(operation_id="auth_me", responses={200: UserInfoSerializer})
    @action(detail=False, methods=["get"], url_path="me", permission_classes=[IsAuthenticated])
    def me(self, request):
        """The caller, with their roles in the organization the request acts in."""
        context = {"membership": request_membership(request)}
        return Response(UserInfoSerializer(request.user, context=context).data)


class ApiKeyViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's API keys in the acting organization. The full key is shown once, on creation."""

    serializer_class = ApiKeySerializer
    pagination_class = None  # a bare JSON array (contract 1.6)
    lookup_url_kwarg = "key_id"
    not_found_message = "API key not found"

    def get_queryset(self):
        user = cast(User, self.request.user)  # IsAuthenticated (the default permission) ran before this
        return api_key_list(user=user, organization=request_organization(self.request))

    def get_object(self):
        try:
            key_id = uuid.UUID(str(self.kwargs.get(self.lookup_url_kwarg)))
        except ValueError:
            raise NotFound(self.not_found_message) from None
        api_key = self.get_queryset().filter(pk=key_id).first()
        if api_key is None:  # unknown, or someone else's: the same answer
            raise NotFound(self.not_found_message)
        return api_key

    @extend_schema(operation_id="api_keys_list", responses={200: ApiKeySerializer(many=True)})
    def list(self, request, *args, **kwargs):
        """The caller's keys, newest first (a bare array)."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        operation_id="api_keys_create", request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer}
    )
    def create(self, request, *args, **kwargs):
        """Create a key acting as the caller in the acting organization; the response holds the only copy."""
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, raw_key = services.api_key_create(
            user=request.user, organization=request_organization(request), **serializer.validated_data
        )
        api_key.key = raw_key  # type: ignore[attr-defined]  # shown once by ApiKeyCreatedSerializer, never stored
        return Response(ApiKeyCreatedSerializer(api_key).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="api_keys_delete",
        parameters=[OpenApiParameter("key_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={204: None, 404: OpenApiResponse(description="API key not found")},
    )
    def destroy(self, request, *args, **kwargs):
        """Revoke one of the caller's keys; it answers 401 from the next request on."""
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.api_key_delete(api_key=instance)


class UserViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Members of the caller's organization (admins only)."""

    serializer_class = UserSerializer
    pagination_class = DataEnvelope
    permission_classes = [IsAdmin]

    def get_queryset(self):
        search = (self.request.query_params.get("search") or "").strip()[:254]
        return user_list(organization=request_organization(self.request), search=search or None)

    @extend_schema(
        operation_id="users_list",
        parameters=[OpenApiParameter("search", str, description="Case-insensitive substring of name or email.")],
    )
    def list(self, request, *args, **kwargs):
        """Users of the acting organization, newest first."""
        return super().list(request, *args, **kwargs)


class OrgPathMixin:
    """Routes under /v1/orgs/{org}: the caller's membership there is resolved before the permissions run.

    Not a member (or a malformed/unknown id) is 404 "Organization not found", the same for all three, so
    another organization's existence is not disclosed; a member without the role an action needs is 403.
    """

    org_membership: Membership | None = None
    kwargs: dict[str, Any]

    def check_permissions(self, request):
        user = request.user
        if "org" in self.kwargs and user is not None and user.is_authenticated:
            org_id = ids.parse_id("org", self.kwargs["org"])
            self.org_membership = membership_in(user=user, organization_id=org_id)
            if self.org_membership is None:
                raise NotFound("Organization not found")
        super().check_permissions(request)  # type: ignore[misc]  # mixed into an APIView

    @property
    def path_organization(self) -> Organization:
        assert self.org_membership is not None, "check_permissions resolves it first"
        return self.org_membership.organization


ORG_PARAMETER = OpenApiParameter("org", str, OpenApiParameter.PATH, description="Organization id (org_…).")


class OrganizationViewSet(OrgPathMixin, viewsets.GenericViewSet):
    """The caller's organizations: list, create (the caller becomes its owner), get, rename (admins)."""

    serializer_class = OrganizationSerializer
    pagination_class = DataEnvelope
    lookup_url_kwarg = "org"
    id_prefix = "org"

    def get_permissions(self):
        if self.action == "partial_update":
            return [IsAuthenticated(), IsOrgAdmin()]
        return [IsAuthenticated()]

    def get_queryset(self):
        return organization_list(user=cast(User, self.request.user))

    @extend_schema(operation_id="organizations_list", responses={200: OrganizationSerializer(many=True)})
    def list(self, request, *args, **kwargs):
        """Organizations the caller is a member of, oldest first."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(OrganizationSerializer(page, many=True).data)

    @extend_schema(
        operation_id="organizations_create",
        request=OrganizationCreateSerializer,
        responses={201: OrganizationSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Create an organization; the caller becomes its owner (roles ["admin"] there)."""
        serializer = OrganizationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_create(user=request.user, **serializer.validated_data)
        return Response(OrganizationSerializer(organization).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="organizations_get", parameters=[ORG_PARAMETER], responses={200: OrganizationSerializer}
    )
    def retrieve(self, request, *args, **kwargs):
        """One of the caller's organizations."""
        return Response(OrganizationSerializer(self.path_organization).data)

    @extend_schema(
        operation_id="organizations_update",
        parameters=[ORG_PARAMETER],
        request=OrganizationUpdateSerializer,
        responses={200: OrganizationSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        """Rename an organization (its admins)."""
        serializer = OrganizationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_update(organization=self.path_organization, **serializer.validated_data)
        return Response(OrganizationSerializer(organization).data)


class OrganizationMemberViewSet(OrgPathMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Members of an organization (its admins only): add an existing user with a role, change roles, remove."""

    serializer_class = UserSerializer
    pagination_class = DataEnvelope
    permission_classes = [IsAuthenticated, IsOrgAdmin]
    lookup_url_kwarg = "user_id"

    def get_queryset(self):
        return user_list(organization=self.path_organization)

    def _member(self):
        try:
            user_id = uuid.UUID(str(self.kwargs.get(self.lookup_url_kwarg)))
        except ValueError:
            raise NotFound("User not found") from None
        membership = member_get(organization=self.path_organization, user_id=user_id)
        if membership is None:
            raise NotFound("User not found")
        return membership

    def _member_response(self, membership, status_code=status.HTTP_200_OK) -> Response:
        user = membership.user
        user.org_role = membership.role  # what UserSerializer reads for roles
        return Response(UserSerializer(user).data, status=status_code)

    @extend_schema(operation_id="organization_members_list", parameters=[ORG_PARAMETER])
    def list(self, request, *args, **kwargs):
        """Members with their roles in this organization, newest first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        operation_id="organization_members_add",
        parameters=[ORG_PARAMETER],
        request=MemberAddSerializer,
        responses={201: UserSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Add an existing user (by email) with roles ["user"] (default) or ["admin"]."""
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_add(organization=self.path_organization, **serializer.validated_data)
        return self._member_response(membership, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="organization_members_update",
        parameters=[ORG_PARAMETER, OpenApiParameter("user_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        request=MemberUpdateSerializer,
        responses={200: UserSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        """Change a member's role; the last admin cannot be demoted (409)."""
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_update(membership=self._member(), **serializer.validated_data)
        return self._member_response(membership)

    @extend_schema(
        operation_id="organization_members_remove",
        parameters=[ORG_PARAMETER, OpenApiParameter("user_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={204: None},
    )
    def destroy(self, request, *args, **kwargs):
        """Remove a member (their API keys for this organization stop working); never the last admin (409)."""
        services.membership_remove(membership=self._member())
        return Response(status=status.HTTP_204_NO_CONTENT)
