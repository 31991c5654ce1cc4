"""The face login service end to end through Flask's test client, on real photos and the real FaceNet."""

from __future__ import annotations

import io
import logging

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from face_login.server.tokens import TOKEN_SALT

pytestmark = pytest.mark.slow


def register(client, photo, name, *paths):
    return client.post("/api/users", data={"name": name, "photo": [photo(path) for path in paths]})


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_register_login_verify_delete(client, photo):
    created = register(client, photo, "obama", "identities/obama/obama.jpg", "identities/obama/obama2.jpg")
    assert created.status_code == 201
    assert created.get_json()["user"]["embeddings"] == 2

    login = client.post("/api/login", data={"photo": photo("probes/obama1.jpg")})
    assert login.status_code == 200
    body = login.get_json()
    assert body["user"]["name"] == "obama"
    assert body["distance"] < body["threshold"]

    me = client.get("/api/me", headers=bearer(body["token"]))
    assert me.get_json()["user"]["name"] == "obama"

    verified = client.post("/api/verify", data={"name": "obama", "photo": photo("obama3.jpg")})
    assert verified.status_code == 200

    listed = client.get("/api/users").get_json()["users"]
    assert [user["name"] for user in listed] == ["obama"]

    deleted = client.delete("/api/users/obama", headers=bearer(body["token"]))
    assert deleted.status_code == 200
    assert client.get("/api/users").get_json()["users"] == []
    assert error_code(client.get("/api/me", headers=bearer(body["token"]))) == "invalid_token"


def test_login_other_person_refused(client, photo):
    register(client, photo, "obama", "identities/obama/obama.jpg")
    rejected = client.post("/api/login", data={"photo": photo("identities/biden/biden.jpg")})
    assert rejected.status_code == 401
    assert error_code(rejected) == "no_match"


def test_login_empty_gallery_refused(client, photo):
    rejected = client.post("/api/login", data={"photo": photo("obama.jpg")})
    assert error_code(rejected) == "no_match"


def test_verify_wrong_user_refused(client, photo):
    register(client, photo, "拜登", "identities/biden/biden.jpg")
    rejected = client.post("/api/verify", data={"name": "拜登", "photo": photo("obama.jpg")})
    assert rejected.status_code == 401
    assert error_code(rejected) == "face_mismatch"


def test_register_rejects_two_faces(client, photo):
    response = register(client, photo, "someone", "two_people.jpg")
    assert response.status_code == 422
    assert error_code(response) == "multiple_faces"
    assert response.get_json()["error"]["faces"] == 2


def test_register_rejects_no_face(client):
    import cv2
    import numpy as np

    noise = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    _, encoded = cv2.imencode(".jpg", noise)
    response = client.post("/api/users", data={"name": "nobody", "photo": (io.BytesIO(encoded.tobytes()), "n.jpg")})
    assert response.status_code == 422
    assert error_code(response) == "no_face"


def test_register_accepts_rgba_png(client, photo):
    response = register(client, photo, "rgba", "32bit.png")
    assert response.status_code == 201


def test_register_rejects_mixed_people(client, photo):
    response = register(client, photo, "mix", "identities/obama/obama.jpg", "identities/biden/biden.jpg")
    assert error_code(response) == "photos_do_not_match"


def test_register_rejects_enrolled_face(client, photo):
    register(client, photo, "obama", "identities/obama/obama.jpg")
    again = register(client, photo, "not-obama", "obama2.jpg")
    assert again.status_code == 409
    assert error_code(again) == "face_already_registered"
    assert "obama" not in again.get_json()["error"]["message"]


def test_register_rejects_taken_name(client, photo):
    register(client, photo, "obama", "identities/obama/obama.jpg")
    again = register(client, photo, "obama", "identities/biden/biden.jpg")
    assert again.status_code == 409
    assert error_code(again) == "user_exists"


def test_requests_rejected_without_face_work(client):
    """Malformed requests fail with a stable code before any model runs."""
    not_image = (io.BytesIO(b"definitely not a jpeg"), "x.jpg")
    empty = (io.BytesIO(b""), "empty.jpg")
    cases = [
        ("/api/users", {"photo": (io.BytesIO(b"x"), "a.jpg")}, 400, "missing_field"),
        ("/api/users", {"name": "bad/name", "photo": (io.BytesIO(b"x"), "a.jpg")}, 400, "invalid_name"),
        ("/api/users", {"name": "   ", "photo": (io.BytesIO(b"x"), "a.jpg")}, 400, "invalid_name"),
        ("/api/users", {"name": "x" * 40, "photo": (io.BytesIO(b"x"), "a.jpg")}, 400, "invalid_name"),
        ("/api/users", {"name": "alice"}, 400, "missing_field"),
        ("/api/users", {"name": "alice", "photo": [(io.BytesIO(b"x"), f"{i}.jpg") for i in range(6)]}, 400,
         "too_many_files"),
        ("/api/users", {"name": "alice", "photo": not_image}, 400, "invalid_image"),
        ("/api/users", {"name": "alice", "photo": empty}, 400, "invalid_image"),
        ("/api/login", {}, 400, "missing_field"),
        ("/api/users", {"name": "alice", "photos": (io.BytesIO(b"x"), "a.jpg")}, 400, "unknown_field"),
        ("/api/login", {"image": (io.BytesIO(b"x"), "a.jpg")}, 400, "unknown_field"),
        ("/api/verify", {"name": "alice", "user": "bob", "photo": (io.BytesIO(b"x"), "a.jpg")}, 400,
         "unknown_field"),
        ("/api/login", {"photo": (io.BytesIO(b"GIF89a nonsense"), "x.gif")}, 400, "invalid_image"),
        ("/api/verify", {"photo": (io.BytesIO(b"x"), "a.jpg")}, 400, "missing_field"),
        ("/api/verify", {"name": "nobody", "photo": (io.BytesIO(b"x"), "a.jpg")}, 404, "user_not_found"),
    ]
    for path, data, status, code in cases:
        response = client.post(path, data=data)
        assert response.status_code == status, (path, code)
        assert error_code(response) == code, (path, code)


def test_http_errors_are_json(client):
    assert error_code(client.get("/api/unknown")) == "not_found"
    assert error_code(client.put("/api/login")) == "method_not_allowed"
    assert error_code(client.delete("/api/users/nobody")) == "missing_token"


def test_request_and_pixel_limits(make_app):
    import cv2
    import numpy as np

    client = make_app(MAX_CONTENT_LENGTH=50_000, MAX_IMAGE_PIXELS=100 * 100).test_client()
    big = (io.BytesIO(b"\0" * 60_000), "big.jpg")
    response = client.post("/api/login", data={"photo": big})
    assert response.status_code == 413
    assert error_code(response) == "request_too_large"

    ok, encoded = cv2.imencode(".png", np.zeros((200, 200, 3), np.uint8))
    response = client.post("/api/login", data={"photo": (io.BytesIO(encoded.tobytes()), "wide.png")})
    assert response.status_code == 413
    assert error_code(response) == "image_too_large"


def test_server_survives_bad_requests(client, photo):
    client.post("/api/login", data={"photo": (io.BytesIO(b"\x89PNG\r\n\x1a\n broken"), "x.png")})
    register(client, photo, "obama", "identities/obama/obama.jpg")
    assert client.post("/api/login", data={"photo": photo("obama.jpg")}).status_code == 200


def test_token_tampered_rejected(client, photo):
    register(client, photo, "obama", "identities/obama/obama.jpg")
    token = client.post("/api/login", data={"photo": photo("obama.jpg")}).get_json()["token"]
    payload, timestamp, signature = token.split(".")
    forged = URLSafeTimedSerializer("test-secret", salt=TOKEN_SALT).dumps({"uid": 1, "name": "obama"})
    cases = {
        "flipped signature": f"{payload}.{timestamp}.{signature[::-1]}",
        "other payload": f"{forged.split('.')[0][:-2]}AA.{timestamp}.{signature}",
        "other secret": URLSafeTimedSerializer("wrong", salt=TOKEN_SALT).dumps({"uid": 1, "name": "obama"}),
        "garbage": "not-a-token",
    }
    for label, bad in cases.items():
        response = client.get("/api/me", headers=bearer(bad))
        assert response.status_code == 401, label
        assert error_code(response) == "invalid_token", label
    assert error_code(client.get("/api/me")) == "missing_token"


def test_token_expired_rejected(client, photo):
    register(client, photo, "obama", "identities/obama/obama.jpg")

    class TwoHoursAgoSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 7200

    old = URLSafeTimedSerializer("test-secret", salt=TOKEN_SALT, signer=TwoHoursAgoSigner)
    response = client.get("/api/me", headers=bearer(old.dumps({"uid": 1, "name": "obama"})))
    assert response.status_code == 401
    assert error_code(response) == "token_expired"


def test_delete_needs_own_token(make_app, photo):
    client = make_app(ADMIN_TOKEN="admin-secret").test_client()
    register(client, photo, "obama", "identities/obama/obama.jpg")
    register(client, photo, "biden", "identities/biden/biden.jpg")
    token = client.post("/api/login", data={"photo": photo("obama.jpg")}).get_json()["token"]

    assert error_code(client.delete("/api/users/biden", headers=bearer(token))) == "forbidden"
    assert error_code(client.get("/api/users")) == "forbidden"
    admin = {"X-Admin-Token": "admin-secret"}
    assert client.delete("/api/users/biden", headers=admin).status_code == 200
    assert error_code(client.delete("/api/users/biden", headers=admin)) == "user_not_found"


def test_client_rate_limit(make_app):
    client = make_app(RATE_LIMIT_PER_CLIENT=3).test_client()
    statuses = [client.post("/api/login", data={"photo": (io.BytesIO(b"x"), "x.jpg")}).status_code
                for _ in range(3)]
    assert statuses == [400, 400, 400]
    limited = client.post("/api/login", data={"photo": (io.BytesIO(b"x"), "x.jpg")})
    assert limited.status_code == 429
    assert error_code(limited) == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1


def test_user_failure_limit(make_app, photo):
    client = make_app(USER_FAILURE_LIMIT=2).test_client()
    register(client, photo, "obama", "identities/obama/obama.jpg")
    for _ in range(2):
        assert error_code(client.post("/api/verify", data={"name": "obama", "photo": photo("biden.jpg")})) == \
            "face_mismatch"
    locked = client.post("/api/verify", data={"name": "obama", "photo": photo("obama.jpg")})
    assert locked.status_code == 429
    assert error_code(locked) == "user_locked"


def test_audit_log_line(client, photo, caplog):
    register(client, photo, "obama", "identities/obama/obama.jpg")
    caplog.clear()  # an earlier test may have left INFO enabled, so the registration line could be captured too
    with caplog.at_level(logging.INFO, logger="face_login.audit"):
        token = client.post("/api/login", data={"photo": photo("obama.jpg")}).get_json()["token"]
    lines = [record.getMessage() for record in caplog.records if record.name == "face_login.audit"]
    assert len(lines) == 1
    assert "result=success user=obama distance=" in lines[0]
    assert "client=127.0.0.1" in lines[0]
    assert token not in lines[0]


def test_audit_log_bad_input(client, caplog):
    with caplog.at_level(logging.INFO, logger="face_login.audit"):
        client.post("/api/login", data={"photo": (io.BytesIO(b"junk"), "x.jpg")})
    lines = [record.getMessage() for record in caplog.records if record.name == "face_login.audit"]
    assert lines == ["attempt endpoint=login result=invalid_image user=- client=127.0.0.1"]


def test_liveness_required_needs_frames(make_app, photo):
    client = make_app(LIVENESS_REQUIRED=True).test_client()
    response = client.post("/api/login", data={"photo": photo("obama.jpg")})
    assert response.status_code == 400
    assert error_code(response) == "liveness_required"
    assert client.get("/api/config").get_json()["liveness_required"] is True


def test_liveness_rejects_still_photo(make_app, photo, faces_dir):
    """A burst of identical frames, like a printed photo held to the camera, has no blink."""
    client = make_app(LIVENESS_REQUIRED=True).test_client()
    register(client, photo, "obama", "identities/obama/obama.jpg")
    still = (faces_dir / "obama.jpg").read_bytes()
    frames = [(io.BytesIO(still), f"frame{i}.jpg") for i in range(6)]
    response = client.post("/api/login", data={"frame": frames})
    assert response.status_code == 422
    assert error_code(response) == "liveness_failed"
    assert len(response.get_json()["error"]["ears"]) == 6


def test_photos_not_stored_by_default(make_app, photo, tmp_path):
    from face_login.server.store import UserStore

    client = make_app().test_client()
    register(client, photo, "obama", "identities/obama/obama.jpg")
    store = UserStore(tmp_path / "users.sqlite3")
    assert store.photo_count() == 0
    store.close()


def test_decompression_bomb_rejected(client):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")
    response = client.post("/api/login", data={"photo": (io.BytesIO(buffer.getvalue()), "bomb.png")})
    assert response.status_code == 413
    assert error_code(response) == "image_too_large"


def test_generated_secret_shared(tmp_path):
    from face_login.server import _load_or_create_secret

    path = tmp_path / "instance" / "secret_key"
    first = _load_or_create_secret(path)
    second = _load_or_create_secret(path)
    assert len(first) >= 32
    assert first == second
    assert path.stat().st_mode & 0o777 == 0o600
