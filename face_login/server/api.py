"""JSON endpoints: /api/users (enrol, list, delete), /api/login (1:N), /api/verify (1:1), /api/me, /api/config."""

from __future__ import annotations

import functools
import hmac
import logging
import sqlite3

import numpy as np
from flask import Blueprint, current_app, g, jsonify, request

from face_login.server import recognition
from face_login.server.errors import ApiError
from face_login.server.limits import check_client_limit, check_user_limit
from face_login.server.store import UserStore
from face_login.server.tokens import bearer_token, issue_token, read_token
from face_login.server.uploads import check_fields, decode, read_files, read_name, validate_name

api = Blueprint("api", __name__, url_prefix="/api")
audit = logging.getLogger("face_login.audit")

NEAR_MISS_MARGIN = 0.15  # a failed 1:N login this close above the threshold counts as an attempt on that user


def store() -> UserStore:
    if "store" not in g:
        g.store = UserStore(current_app.config["DATABASE"])
    return g.store


@api.teardown_app_request
def close_store(_error=None) -> None:
    opened = g.pop("store", None)
    if opened is not None:
        opened.close()


def client_address() -> str:
    return request.remote_addr or "unknown"


def counted(endpoint: str):
    """Check the client's request limit, then store the attempt whatever the outcome, bad input included.

    A view marks the user that a failure counts against (for the per-user limit) in ``g.attempt_user``.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            g.attempt_user, g.audited = None, False
            try:
                check_client_limit(store(), client_address())
            except ApiError as error:
                audit.info("attempt endpoint=%s result=%s client=%s", endpoint, error.code, client_address())
                raise
            success = False
            try:
                response = view(*args, **kwargs)
                success = True
                return response
            except ApiError as error:
                if not g.audited:  # rejected before matching: bad input, no face, liveness
                    audit.info("attempt endpoint=%s result=%s user=%s client=%s", endpoint, error.code,
                               g.attempt_user or "-", client_address())
                raise
            finally:
                store().record_attempt(client_address(), g.attempt_user, endpoint, success)

        return wrapper

    return decorator


@api.get("/config")
def public_config():
    """Return the settings a client needs: whether a blink burst is required, and the upload limits."""
    config = current_app.config
    return jsonify({"ok": True, "liveness_required": config["LIVENESS_REQUIRED"],
                    "liveness_min_frames": config["LIVENESS_MIN_FRAMES"],
                    "liveness_max_frames": config["LIVENESS_MAX_FRAMES"],
                    "max_photos_per_user": config["MAX_PHOTOS_PER_USER"],
                    "max_request_bytes": config["MAX_CONTENT_LENGTH"]})


@api.post("/users")
@counted("register")
def register_user():
    """Enrol ``name`` with 1..N ``photo`` files, each with exactly one face, all of the same person."""
    config = current_app.config
    check_fields(form=("name",), files=("photo",))
    name = read_name()
    payloads = read_files("photo", 1, config["MAX_PHOTOS_PER_USER"], "photo")
    if store().get_user(name) is not None:
        raise ApiError(409, "user_exists", f"user {name!r} is already registered; choose another name")

    try:
        images = [decode(payload, index, "photo") for index, payload in enumerate(payloads)]
        embeddings = [recognition.embed_single_face(image, index, "photo") for index, image in enumerate(images)]
        threshold = config["MATCH_THRESHOLD"]
        recognition.check_same_person(embeddings, threshold)
        recognition.check_not_enrolled(recognition.state().gallery(store()), embeddings, threshold)
        try:
            user = store().add_user(name, np.stack(embeddings), payloads if config["STORE_PHOTOS"] else None)
        except sqlite3.IntegrityError as error:
            raise ApiError(409, "user_exists", f"user {name!r} is already registered; choose another name") from error
    except ApiError as error:
        g.audited = True
        audit.info("register name=%s result=%s client=%s", name, error.code, client_address())
        raise
    g.attempt_user, g.audited = name, True
    audit.info("register name=%s result=success photos=%d client=%s", name, len(payloads), client_address())
    return jsonify({"ok": True, "user": _user_json(user)}), 201


@api.get("/users")
def list_users():
    _require_admin_if_configured()
    return jsonify({"ok": True, "users": [_user_json(user) for user in store().list_users()]})


@api.delete("/users/<name>")
def delete_user(name: str):
    """Delete a user: allowed with that user's session token, or with the admin token."""
    validate_name(name)
    if not _is_admin():
        payload = _session_payload()
        if payload["name"] != name:
            raise ApiError(403, "forbidden", "a session token may only delete its own user")
    if not store().delete_user(name):
        raise ApiError(404, "user_not_found", f"no user named {name!r}")
    audit.info("delete name=%s client=%s", name, client_address())
    return jsonify({"ok": True, "deleted": name})


@api.post("/login")
@counted("login")
def login():
    """1:N identification: the closest enrolled user under the threshold receives a session token."""
    check_fields(files=("photo", "frame"))
    embeddings = _probe_embeddings()
    match = recognition.identify(recognition.state().gallery(store()), embeddings)
    threshold = current_app.config["MATCH_THRESHOLD"]
    if match is not None:
        _check_locked(match.name, "login")
    if match is None or match.distance >= threshold:
        # Only a near miss counts against that user's failure limit, so strangers cannot lock a user out.
        near_miss = match is not None and match.distance < threshold + NEAR_MISS_MARGIN
        _audit("login", match.name if near_miss else None, False, match.distance if match else None,
               nearest=match.name if match else None)
        raise ApiError(401, "no_match", "no registered user matches this face; register first or try again "
                       "in better light", distance=_rounded(match.distance if match else None))
    return _success("login", match.name, match.distance)


@api.post("/verify")
@counted("verify")
def verify():
    """1:1 verification of the face against the named user."""
    check_fields(form=("name",), files=("photo", "frame"))
    name = read_name()
    user = store().get_user(name)
    if user is None:
        raise ApiError(404, "user_not_found", f"no user named {name!r}; register first")
    _check_locked(name, "verify")
    embeddings = _probe_embeddings()
    gallery = recognition.state().gallery(store())
    distance = max(gallery.distance_to(embedding, name) for embedding in embeddings)
    if distance >= current_app.config["MATCH_THRESHOLD"]:
        _audit("verify", name, False, distance)
        raise ApiError(401, "face_mismatch", f"the face does not match user {name!r}", distance=_rounded(distance))
    return _success("verify", name, distance)


@api.get("/me")
def me():
    payload = _session_payload()
    return jsonify({"ok": True, "user": {"name": payload["name"]}})


def _probe_embeddings() -> list[np.ndarray]:
    """Embeddings to match: one ``photo``, or two open-eye frames of a ``frame`` burst that passed the blink check."""
    config = current_app.config
    has_frames = bool(request.files.getlist("frame") or request.files.getlist("frame[]"))
    if not has_frames:
        if config["LIVENESS_REQUIRED"]:
            raise ApiError(400, "liveness_required", f"this server requires a blink check: send "
                           f"{config['LIVENESS_MIN_FRAMES']} to {config['LIVENESS_MAX_FRAMES']} 'frame' files")
        payload = read_files("photo", 1, 1, "photo")[0]
        return [recognition.embed_single_face(decode(payload, 0, "photo"), 0, "photo")]

    payloads = read_files("frame", config["LIVENESS_MIN_FRAMES"], config["LIVENESS_MAX_FRAMES"], "frames")
    frames = [decode(payload, index, "frame") for index, payload in enumerate(payloads)]
    outcome = recognition.check_liveness(frames)
    return [recognition.embed_single_face(frame, 0, "frame") for frame in outcome.identity_frames]


def _check_locked(name: str, endpoint: str) -> None:
    try:
        check_user_limit(store(), name)
    except ApiError:
        g.audited = True
        audit.info("attempt endpoint=%s result=user_locked user=%s client=%s", endpoint, name, client_address())
        raise


def _success(endpoint: str, name: str, distance: float):
    user = store().get_user(name)
    _audit(endpoint, name, True, distance)
    token = issue_token(current_app.config["SECRET_KEY"], user.id, user.name)
    return jsonify({"ok": True, "user": {"name": user.name}, "distance": _rounded(distance),
                    "threshold": current_app.config["MATCH_THRESHOLD"], "token": token,
                    "expires_in": current_app.config["TOKEN_MAX_AGE_S"]})


def _audit(endpoint: str, name: str | None, success: bool, distance: float | None,
           nearest: str | None = None) -> None:
    """Mark the user the attempt counts against and write one audit line (never the image or the token)."""
    g.attempt_user, g.audited = name, True
    audit.info("attempt endpoint=%s result=%s user=%s distance=%s client=%s", endpoint,
               "success" if success else "rejected", nearest or name or "-", _rounded(distance), client_address())


def _session_payload() -> dict:
    config = current_app.config
    payload = read_token(config["SECRET_KEY"], bearer_token(request.headers.get("Authorization")),
                         config["TOKEN_MAX_AGE_S"])
    user = store().get_user(payload["name"])
    if user is None or user.id != payload["uid"]:
        raise ApiError(401, "invalid_token", "the user of this session token no longer exists; log in again")
    return payload


def _is_admin() -> bool:
    expected = current_app.config["ADMIN_TOKEN"]
    received = request.headers.get("X-Admin-Token", "")
    return bool(expected) and hmac.compare_digest(received.encode(), str(expected).encode())


def _require_admin_if_configured() -> None:
    if current_app.config["ADMIN_TOKEN"] and not _is_admin():
        raise ApiError(403, "forbidden", "listing users requires the 'X-Admin-Token' header")


def _user_json(user) -> dict:
    return {"name": user.name, "embeddings": user.embedding_count, "created_at": round(user.created_at, 3)}


def _rounded(distance: float | None):
    return None if distance is None or not np.isfinite(distance) else round(float(distance), 4)
