"""The zh-CN login page: camera preview, registration and login in the browser."""

from flask import Blueprint, render_template

web = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


@web.get("/")
def index():
    return render_template("index.html")
