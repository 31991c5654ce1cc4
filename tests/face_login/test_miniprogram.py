"""The WeChat mini-program's requests and the response fields it reads, checked against the real API.

The JS sources are parsed for the endpoints, the wx.uploadFile field names and every ``body.<field>`` they read.
The same requests then go through Flask's test client as multipart forms shaped like wx.uploadFile's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import face_login

pytestmark = pytest.mark.slow

MINIPROGRAM = Path(face_login.__file__).parent / "miniprogram"
SERVER_SOURCES = Path(face_login.__file__).parent / "server"


def read_js() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(MINIPROGRAM.rglob("*.js")))


def upload_calls(source: str) -> dict[str, dict]:
    """Return {endpoint: {"file_field", "form_fields"}} for every wx.uploadFile call."""
    calls = {}
    for block in re.findall(r"wx\.uploadFile\(\{(.*?)\n\s*\}\);", source, flags=re.S):
        endpoint = re.search(r'app\.apiUrl\("([^"]+)"\)', block).group(1)
        file_field = re.search(r'\bname: "(\w+)"', block).group(1)
        form = re.search(r"formData: \{([^}]*)\}", block)
        form_fields = re.findall(r"(\w+):", form.group(1)) if form else []
        calls[endpoint] = {"file_field": file_field, "form_fields": form_fields}
    return calls


def body_fields(source: str) -> set[str]:
    return set(re.findall(r"\bbody\.([a-z_]+(?:\.[a-z_]+)*)", source))


def has_path(payload: dict, dotted: str) -> bool:
    for key in dotted.split("."):
        if not isinstance(payload, dict) or key not in payload:
            return False
        payload = payload[key]
    return True


def test_miniprogram_files_exist():
    for relative in ["app.js", "app.json", "project.config.json", "README.md", "pages/index/index.js",
                     "pages/face/face.js", "pages/face/face.wxml", "pages/main/main.js"]:
        assert (MINIPROGRAM / relative).is_file(), relative


def test_miniprogram_uses_camera_component():
    assert "<camera" in (MINIPROGRAM / "pages/face/face.wxml").read_text(encoding="utf-8")


def test_miniprogram_endpoints_exist(client):
    endpoints = set(re.findall(r'app\.apiUrl\("(/api/[^"]*)"', read_js()))
    assert endpoints == {"/api/users", "/api/login", "/api/me", "/api/users/"}
    rules = {rule.rule for rule in client.application.url_map.iter_rules()}
    for endpoint in ["/api/users", "/api/login", "/api/me", "/api/users/<name>"]:
        assert endpoint in rules, endpoint


def test_miniprogram_error_codes_known():
    codes = set(re.findall(r"^\s+(\w+): \"", (MINIPROGRAM / "app.js").read_text(encoding="utf-8"), flags=re.M))
    server_text = "\n".join(path.read_text(encoding="utf-8") for path in SERVER_SOURCES.glob("*.py"))
    for code in codes:
        assert f'"{code}"' in server_text, code


def test_miniprogram_requests_against_api(client, photo):
    source = read_js()
    calls = upload_calls(source)
    register_call, login_call = calls["/api/users"], calls["/api/login"]
    assert register_call == {"file_field": "photo", "form_fields": ["name"]}
    assert login_call == {"file_field": "photo", "form_fields": []}

    responses = []
    registered = client.post("/api/users", data={register_call["form_fields"][0]: "小程序用户",
                                                 register_call["file_field"]: photo("identities/obama/obama.jpg")})
    assert registered.status_code == 201
    responses.append(registered.get_json())

    logged_in = client.post("/api/login", data={login_call["file_field"]: photo("probes/obama1.jpg")})
    assert logged_in.status_code == 200
    token = logged_in.get_json()["token"]
    responses.append(logged_in.get_json())

    me = client.get("/api/me", headers={"Authorization": "Bearer " + token})
    responses.append(me.get_json())
    rejected = client.post("/api/login", data={login_call["file_field"]: photo("identities/biden/biden.jpg")})
    responses.append(rejected.get_json())
    deleted = client.delete("/api/users/小程序用户", headers={"Authorization": "Bearer " + token})
    assert deleted.status_code == 200
    responses.append(deleted.get_json())

    for field in sorted(body_fields(source)):
        assert any(has_path(response, field) for response in responses), field
