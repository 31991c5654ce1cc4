"""Signed, expiring session tokens (itsdangerous) issued after a successful login or verification."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from face_login.server.errors import ApiError

TOKEN_SALT = "face-login-session"


def token_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)


def issue_token(secret_key: str, user_id: int, name: str) -> str:
    return token_serializer(secret_key).dumps({"uid": user_id, "name": name})


def read_token(secret_key: str, token: str, max_age_s: int) -> dict:
    """Return the token's payload.

    Raises:
        ApiError: 401 ``token_expired`` when older than ``max_age_s``, 401 ``invalid_token`` when the
            signature or payload is wrong.
    """
    try:
        payload = token_serializer(secret_key).loads(token, max_age=max_age_s)
    except SignatureExpired as error:
        raise ApiError(401, "token_expired", "the session token has expired; log in again") from error
    except BadSignature as error:
        raise ApiError(401, "invalid_token", "the session token is invalid; log in again") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int) or not isinstance(
            payload.get("name"), str):
        raise ApiError(401, "invalid_token", "the session token is invalid; log in again")
    return payload


def bearer_token(authorization: str | None) -> str:
    """Return the token from an ``Authorization: Bearer <token>`` header.

    Raises:
        ApiError: 401 ``missing_token`` when the header is absent or not a bearer token.
    """
    if not authorization or not authorization.startswith("Bearer ") or not authorization[7:].strip():
        raise ApiError(401, "missing_token", "send the session token as 'Authorization: Bearer <token>'")
    return authorization[7:].strip()
