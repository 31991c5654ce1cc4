"""The HTTP API through Flask's test client: every endpoint in both input forms, and every error path."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from face_api import ModelUnavailableError
from face_api.server import create_app
from face_api.server.errors import ERROR_CODES


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="module")
def app(models):
    app = create_app({"TESTING": True, "PRELOAD_MODELS": False})
    app.extensions["face_api.models"] = models  # share the session's loaded models
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def face_jpeg(faces_dir) -> bytes:
    return (faces_dir / "obama_small.jpg").read_bytes()


@pytest.fixture(scope="module")
def other_jpeg(faces_dir) -> bytes:
    return (faces_dir / "obama-240p.jpg").read_bytes()


@pytest.fixture(scope="module")
def blank_png() -> bytes:
    return png_bytes(Image.new("RGB", (160, 120), "white"))


def upload(data: bytes, name: str = "photo.jpg") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def error_of(response) -> str:
    return response.get_json()["error"]["code"]


# ---------------------------------------------------------------- detect

def test_detect_json(client, face_jpeg):
    response = client.post("/api/detect", json={"image": b64(face_jpeg)})
    body = response.get_json()
    assert response.status_code == 200
    assert body["face_count"] == 1
    assert set(body["faces"][0]) == {"box", "landmarks", "state", "pose"}
    assert len(body["faces"][0]["landmarks"]["points"]) == 68


def test_detect_multipart(client, face_jpeg):
    response = client.post("/api/detect", data={"image": upload(face_jpeg)})
    assert response.status_code == 200
    assert response.get_json()["faces"][0]["state"]["expression"] == "smile"


def test_detect_data_url(client, face_jpeg):
    response = client.post("/api/detect", json={"image": "data:image/jpeg;base64," + b64(face_jpeg)})
    assert response.status_code == 200
    assert response.get_json()["face_count"] == 1


def test_detect_base64_form_field(client, face_jpeg):
    response = client.post("/api/detect", data={"image": b64(face_jpeg)}, content_type="multipart/form-data")
    assert response.status_code == 200


def test_detect_choose_analyses(client, face_jpeg):
    response = client.post("/api/detect?analyses=state,descriptor", json={"image": b64(face_jpeg)})
    face = response.get_json()["faces"][0]
    assert set(face) == {"box", "state", "descriptor"}
    assert len(face["descriptor"]) == 128


def test_detect_boxes_only(client, face_jpeg):
    response = client.post("/api/detect?analyses=", json={"image": b64(face_jpeg)})
    assert set(response.get_json()["faces"][0]) == {"box"}


def test_detect_options_echoed(client, face_jpeg):
    response = client.post("/api/detect?upsample=0&max_side=200", json={"image": b64(face_jpeg)})
    options = response.get_json()["options"]
    assert options["upsample"] == 0
    assert options["max_side"] == 200


def test_detect_cnn(client, face_jpeg):
    response = client.post("/api/detect?detector=cnn&upsample=0&analyses=", json={"image": b64(face_jpeg)})
    assert response.status_code == 200
    assert response.get_json()["options"]["max_side"] == 640


def test_detect_no_face_is_200(client, blank_png):
    response = client.post("/api/detect", json={"image": b64(blank_png)})
    assert response.status_code == 200
    assert response.get_json()["face_count"] == 0


# ---------------------------------------------------------------- encode

def test_encode_json(client, face_jpeg):
    response = client.post("/api/encode", json={"image": b64(face_jpeg)})
    face = response.get_json()["faces"][0]
    assert response.status_code == 200
    assert set(face) == {"box", "descriptor"}
    assert len(face["descriptor"]) == 128


def test_encode_multipart(client, face_jpeg):
    response = client.post("/api/encode?num_jitters=1", data={"image": upload(face_jpeg)})
    assert response.status_code == 200
    assert len(response.get_json()["faces"][0]["descriptor"]) == 128


# ---------------------------------------------------------------- compare

def test_compare_two_images_json(client, face_jpeg, other_jpeg):
    response = client.post("/api/compare", json={"image": b64(face_jpeg), "known_image": b64(other_jpeg)})
    body = response.get_json()
    assert response.status_code == 200
    assert body["match"] is True
    assert body["faces"][0]["distance"] < 0.6
    assert body["known"]["face_count"] == 1


def test_compare_two_images_multipart(client, faces_dir, face_jpeg):
    known = (faces_dir / "alex-lacamoire.png").read_bytes()
    response = client.post("/api/compare", data={"image": upload(face_jpeg), "known_image": upload(known, "k.png")})
    assert response.status_code == 200
    assert response.get_json()["match"] is False


def test_compare_descriptor_json(client, face_jpeg, other_jpeg):
    descriptor = client.post("/api/encode", json={"image": b64(other_jpeg)}).get_json()["faces"][0]["descriptor"]
    response = client.post("/api/compare?tolerance=0.5", json={"image": b64(face_jpeg), "known_descriptor": descriptor})
    body = response.get_json()
    assert response.status_code == 200
    assert body["known"] == {"source": "known_descriptor"}
    assert body["tolerance"] == 0.5


def test_compare_descriptor_multipart(client, face_jpeg, other_jpeg):
    descriptor = client.post("/api/encode", json={"image": b64(other_jpeg)}).get_json()["faces"][0]["descriptor"]
    form = {"image": upload(face_jpeg), "known_descriptor": json.dumps(descriptor)}
    response = client.post("/api/compare", data=form)
    assert response.status_code == 200
    assert response.get_json()["match"] is True


def test_compare_no_face_in_known(client, face_jpeg, blank_png):
    response = client.post("/api/compare", json={"image": b64(face_jpeg), "known_image": b64(blank_png)})
    assert response.status_code == 422
    assert error_of(response) == "no_face_found"


def test_compare_no_face_in_image(client, face_jpeg, blank_png):
    response = client.post("/api/compare", json={"image": b64(blank_png), "known_image": b64(face_jpeg)})
    assert response.status_code == 422
    assert "'image'" in response.get_json()["error"]["message"]


def test_compare_bad_descriptor(client, face_jpeg):
    response = client.post("/api/compare", json={"image": b64(face_jpeg), "known_descriptor": [0.1] * 12})
    assert response.status_code == 400
    assert error_of(response) == "invalid_descriptor"


def test_compare_descriptor_not_json(client, face_jpeg):
    response = client.post("/api/compare", data={"image": upload(face_jpeg), "known_descriptor": "[0.1, oops"})
    assert error_of(response) == "invalid_json"


def test_compare_missing_known(client, face_jpeg):
    response = client.post("/api/compare", json={"image": b64(face_jpeg)})
    assert response.status_code == 400
    assert error_of(response) == "missing_field"


def test_compare_both_known(client, face_jpeg):
    response = client.post("/api/compare", json={"image": b64(face_jpeg), "known_image": b64(face_jpeg),
                                                 "known_descriptor": [0.0] * 128})
    assert error_of(response) == "conflicting_fields"


def test_compare_bad_tolerance(client, face_jpeg):
    response = client.post("/api/compare?tolerance=5", json={"image": b64(face_jpeg), "known_image": b64(face_jpeg)})
    assert response.status_code == 400
    assert error_of(response) == "invalid_option"


# ---------------------------------------------------------------- annotate

def test_annotate_png(client, face_jpeg):
    response = client.post("/api/annotate", json={"image": b64(face_jpeg)})
    image = Image.open(io.BytesIO(response.data))
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["X-Face-Count"] == "1"
    assert image.size == (320, 240)


def test_annotate_multipart_changes_pixels(client, face_jpeg):
    response = client.post("/api/annotate?numbers=false", data={"image": upload(face_jpeg)})
    drawn = np.asarray(Image.open(io.BytesIO(response.data)).convert("RGB"))
    original = np.asarray(Image.open(io.BytesIO(face_jpeg)).convert("RGB"))
    assert not np.array_equal(drawn, original)


# ---------------------------------------------------------------- request errors

@pytest.mark.parametrize("endpoint", ["/api/detect", "/api/encode", "/api/compare", "/api/annotate"])
def test_empty_body(client, endpoint):
    response = client.post(endpoint, data=b"", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response) == "empty_body"


def test_empty_multipart(client):
    response = client.post("/api/detect", data={}, content_type="multipart/form-data")
    assert error_of(response) == "empty_body"


def test_invalid_base64(client):
    response = client.post("/api/detect", json={"image": "not base64!"})
    assert response.status_code == 400
    assert error_of(response) == "invalid_base64"


def test_data_url_without_base64(client):
    response = client.post("/api/detect", json={"image": "data:image/png,rawtext"})
    assert error_of(response) == "invalid_base64"


def test_image_field_not_string(client):
    response = client.post("/api/detect", json={"image": 42})
    assert error_of(response) == "invalid_base64"


def test_not_an_image(client):
    response = client.post("/api/detect", json={"image": b64(b"just some text")})
    assert response.status_code == 400
    assert error_of(response) == "invalid_image"


def test_empty_upload(client):
    response = client.post("/api/encode", data={"image": upload(b"")})
    assert error_of(response) == "invalid_image"


def test_invalid_json(client):
    response = client.post("/api/detect", data=b"{broken", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response) == "invalid_json"


def test_json_not_object(client):
    response = client.post("/api/detect", json=["image"])
    assert error_of(response) == "invalid_json"


def test_missing_image(client):
    response = client.post("/api/detect", json={})
    assert error_of(response) == "missing_field"


def test_unknown_field(client, face_jpeg):
    response = client.post("/api/detect", json={"img": b64(face_jpeg)})
    assert response.status_code == 400
    assert error_of(response) == "unknown_field"


def test_wrong_content_type(client, face_jpeg):
    response = client.post("/api/detect", data=face_jpeg, content_type="image/jpeg")
    assert response.status_code == 415
    assert error_of(response) == "unsupported_media_type"


def test_unknown_option(client, face_jpeg):
    response = client.post("/api/detect?upsampling=2", json={"image": b64(face_jpeg)})
    assert response.status_code == 400
    assert error_of(response) == "unknown_option"
    assert "upsampling" in response.get_json()["error"]["message"]


def test_option_for_other_endpoint(client, face_jpeg):
    response = client.post("/api/detect?tolerance=0.5", json={"image": b64(face_jpeg)})
    assert error_of(response) == "unknown_option"


@pytest.mark.parametrize("query", ["detector=yolo", "upsample=two", "upsample=5", "max_side=10", "analyses=age",
                                   "upsample=1&upsample=2"])
def test_invalid_option(client, face_jpeg, query):
    response = client.post(f"/api/detect?{query}", json={"image": b64(face_jpeg)})
    assert response.status_code == 400
    assert error_of(response) == "invalid_option"


def test_invalid_num_jitters(client, face_jpeg):
    response = client.post("/api/encode?num_jitters=1000", json={"image": b64(face_jpeg)})
    assert error_of(response) == "invalid_option"


def test_not_found(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert error_of(response) == "not_found"


def test_method_not_allowed(client):
    response = client.get("/api/detect")
    assert response.status_code == 405
    assert error_of(response) == "method_not_allowed"


# ---------------------------------------------------------------- limits from the config

def test_payload_too_large(face_jpeg):
    client = create_app({"TESTING": True, "PRELOAD_MODELS": False, "MAX_CONTENT_LENGTH": 1000}).test_client()
    for response in (client.post("/api/detect", json={"image": b64(face_jpeg)}),
                     client.post("/api/detect", data={"image": upload(face_jpeg)})):
        assert response.status_code == 413
        assert error_of(response) == "payload_too_large"


def test_too_many_pixels(face_jpeg):
    client = create_app({"TESTING": True, "PRELOAD_MODELS": False, "MAX_IMAGE_PIXELS": 10_000}).test_client()
    response = client.post("/api/detect", json={"image": b64(face_jpeg)})
    assert response.status_code == 413
    assert error_of(response) == "too_many_pixels"


def test_detection_budget(app, face_jpeg):
    client = create_app({"TESTING": True, "PRELOAD_MODELS": False, "CNN_MAX_PIXELS": 10_000}).test_client()
    response = client.post("/api/detect?detector=cnn", json={"image": b64(face_jpeg)})
    assert response.status_code == 422
    assert error_of(response) == "detection_budget_exceeded"


def test_missing_model_file(face_jpeg, tmp_path):
    app = create_app({"TESTING": True, "PRELOAD_MODELS": False, "LANDMARKS_68_PATH": str(tmp_path / "none.dat")})
    response = app.test_client().post("/api/detect", json={"image": b64(face_jpeg)})
    assert response.status_code == 503
    assert error_of(response) == "model_unavailable"


def test_unexpected_error_hidden(face_jpeg):
    app = create_app({"TESTING": True, "PRELOAD_MODELS": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    assert error_of(response) == "internal_error"
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200


def test_preload_fails_fast(tmp_path):
    with pytest.raises(ModelUnavailableError, match="none.dat"):
        create_app({"PRELOAD_MODELS": True, "LANDMARKS_68_PATH": str(tmp_path / "none.dat")})


# ---------------------------------------------------------------- service endpoints

def test_healthz(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert isinstance(body["models_loaded"], list)


def test_healthz_after_preload():
    client = create_app({"TESTING": True}).test_client()
    loaded = client.get("/healthz").get_json()["models_loaded"]
    assert loaded == ["cnn_detector", "descriptor", "landmarks_68"]


def test_request_id_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


def test_request_id_sanitised(client):
    response = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert response.headers["X-Request-ID"].isalnum()


def test_openapi_paths(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/api/detect", "/api/encode", "/api/compare", "/api/annotate", "/healthz"}


def test_openapi_error_codes(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"] == sorted(
        ERROR_CODES)


def test_docs_page(client):
    response = client.get("/docs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    for path in ("/api/detect", "/api/encode", "/api/compare", "/api/annotate", "payload_too_large"):
        assert path in page


def test_root_redirects_to_docs(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/docs")
