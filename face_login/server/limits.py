"""Attempt limits per client address and per user, counted in SQLite so that all gunicorn workers share them."""

from __future__ import annotations

import math
import time

from flask import current_app

from face_login.server.errors import ApiError
from face_login.server.store import UserStore


def check_client_limit(store: UserStore, client: str) -> None:
    """Raise 429 ``rate_limited`` when ``client`` sent too many face requests in the window."""
    window = current_app.config["RATE_LIMIT_WINDOW_S"]
    limit = current_app.config["RATE_LIMIT_PER_CLIENT"]
    now = time.time()
    count, oldest = store.count_attempts(now - window, client=client)
    if count >= limit:
        retry_after = _retry_after(oldest, window, now)
        raise ApiError(429, "rate_limited",
                       f"too many face requests from this address ({count} in {window} s); "
                       f"try again in {retry_after} s", headers={"Retry-After": str(retry_after)},
                       retry_after=retry_after)


def check_user_limit(store: UserStore, user_name: str) -> None:
    """Raise 429 ``user_locked`` when logins against ``user_name`` failed too often in the failure window."""
    window = current_app.config["USER_FAILURE_WINDOW_S"]
    limit = current_app.config["USER_FAILURE_LIMIT"]
    now = time.time()
    count, oldest = store.count_attempts(now - window, user_name=user_name, failures_only=True)
    if count >= limit:
        retry_after = _retry_after(oldest, window, now)
        raise ApiError(429, "user_locked",
                       f"too many failed attempts for this user ({count} in {window} s); "
                       f"try again in {retry_after} s", headers={"Retry-After": str(retry_after)},
                       retry_after=retry_after)


def _retry_after(oldest: float | None, window: int, now: float) -> int:
    return max(1, math.ceil((oldest or now) + window - now))
