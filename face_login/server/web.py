"""The zh-CN login page (camera preview, registration and login in the browser) and the ``/healthz`` check."""

from flask import Blueprint, jsonify, render_template

web = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


@web.get("/")
def index():
    return render_template("index.html")


@web.get("/healthz")
def healthz():
    """Return ``{"status": "ok"}`` while the service runs, for load balancers and start-up scripts."""
    return jsonify({"status": "ok"})
