// Face login page: camera preview, registration (1..N photos) and login (one photo, or a blink burst when the
// server requires liveness). Talks to the JSON API of face_login.server; messages are shown in Chinese.
"use strict";

const ERROR_MESSAGES = {
  missing_field: "请求缺少必要内容，请重新拍照。",
  unknown_field: "请求包含服务器不认识的字段，请更新客户端后重试。",
  invalid_name: "用户名不合法：请使用 1 到 32 个汉字、字母、数字、空格、下划线、横线或点。",
  invalid_image: "图片无法识别，请重新拍照。",
  image_too_large: "图片太大，请降低分辨率后重试。",
  request_too_large: "上传内容太大，请减少照片数量。",
  too_many_files: "照片数量超出上限。",
  no_face: "没有检测到人脸，请正对摄像头并保证光线充足。",
  multiple_faces: "画面中有多张人脸，请确保只有你一个人。",
  photos_do_not_match: "几张照片看起来不是同一个人，请重新拍摄。",
  face_already_registered: "这张脸已经注册过其他账号。",
  user_exists: "该用户名已被注册，请换一个。",
  user_not_found: "用户不存在。",
  no_match: "未能识别你的身份，请先注册，或在光线更好的地方重试。",
  face_mismatch: "人脸与该用户不匹配。",
  liveness_required: "需要活体检测，请按提示眨眼。",
  liveness_failed: "活体检测未通过：请正对摄像头，自然眨一次眼。",
  face_changed: "检测过程中人脸发生了变化，请保持不动后重试。",
  rate_limited: "尝试次数过多，请稍后再试。",
  user_locked: "该账号失败次数过多，已暂时锁定，请稍后再试。",
  missing_token: "请先登录。",
  invalid_token: "登录状态已失效，请重新登录。",
  token_expired: "登录已过期，请重新登录。",
  forbidden: "没有权限执行此操作。",
};

const state = { config: null, photos: [], token: sessionStorage.getItem("faceLoginToken") };
const $ = (id) => document.getElementById(id);

function showResult(text, kind) {
  const result = $("result");
  result.textContent = text;
  result.className = "result " + (kind || "");
}

function errorText(body, status) {
  const code = body && body.error && body.error.code;
  let text = ERROR_MESSAGES[code] || "出错了（HTTP " + status + "），请稍后重试。";
  if (body && body.error && body.error.retry_after) {
    text += "（" + body.error.retry_after + " 秒后可重试）";
  }
  return text;
}

async function callApi(method, path, formData, token) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  let response;
  try {
    response = await fetch(path, { method, body: formData, headers });
  } catch (networkError) {
    return { ok: false, status: 0, body: { error: { code: "network" } } };
  }
  let body = null;
  try {
    body = await response.json();
  } catch (parseError) {
    body = null;
  }
  return { ok: response.ok && body && body.ok, status: response.status, body };
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    $("camera-hint").textContent = "此浏览器不支持摄像头访问，请使用 HTTPS 或 localhost 打开本页。";
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
    });
    $("video").srcObject = stream;
    await $("video").play();
    $("camera-hint").textContent = "请把脸放在虚线框内。";
  } catch (error) {
    $("camera-hint").textContent = "无法打开摄像头：" + error.name + "。请允许本页使用摄像头。";
  }
}

// Capture the current video frame as a JPEG Blob, downscaled so that its longer side is at most maxSide.
function captureFrame(maxSide) {
  const video = $("video");
  if (!video.videoWidth) {
    return Promise.resolve(null);
  }
  const scale = Math.min(1, maxSide / Math.max(video.videoWidth, video.videoHeight));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
}

async function captureBurst(count, intervalMs) {
  const frames = [];
  for (let i = 0; i < count; i += 1) {
    const frame = await captureFrame(480);
    if (frame) frames.push(frame);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return frames;
}

function setBusy(busy) {
  for (const id of ["capture", "register", "login", "clear-photos"]) $(id).disabled = busy;
}

function selectTab(name) {
  const registering = name === "register";
  $("register-form").hidden = !registering;
  $("login-panel").hidden = registering;
  $("tab-register").classList.toggle("active", registering);
  $("tab-login").classList.toggle("active", !registering);
  $("tab-register").setAttribute("aria-selected", String(registering));
  $("tab-login").setAttribute("aria-selected", String(!registering));
  showResult("");
}

function renderPhotos() {
  $("photo-count").textContent = String(state.photos.length);
  const thumbnails = $("thumbnails");
  thumbnails.replaceChildren(...state.photos.map((blob) => {
    const image = document.createElement("img");
    image.src = URL.createObjectURL(blob);
    image.alt = "已拍照片";
    return image;
  }));
}

async function onCapture() {
  const max = state.config ? state.config.max_photos_per_user : 3;
  if (state.photos.length >= Math.min(max, 3)) {
    showResult("最多拍 " + Math.min(max, 3) + " 张照片。", "error");
    return;
  }
  const photo = await captureFrame(640);
  if (!photo) {
    showResult("摄像头还没有画面，请稍候。", "error");
    return;
  }
  state.photos.push(photo);
  renderPhotos();
  showResult("已拍 " + state.photos.length + " 张，可以继续拍或直接注册。", "ok");
}

async function onRegister(event) {
  event.preventDefault();
  const name = $("name").value.trim();
  if (!name) {
    showResult("请输入用户名。", "error");
    return;
  }
  if (state.photos.length === 0) {
    const photo = await captureFrame(640);
    if (photo) state.photos.push(photo);
  }
  const form = new FormData();
  form.append("name", name);
  state.photos.forEach((photo, index) => form.append("photo", photo, "photo" + (index + 1) + ".jpg"));
  setBusy(true);
  showResult("正在注册……");
  const reply = await callApi("POST", "/api/users", form);
  setBusy(false);
  if (reply.ok) {
    state.photos = [];
    renderPhotos();
    selectTab("login");
    showResult("注册成功：" + reply.body.user.name + "。现在可以刷脸登录了。", "ok");
  } else {
    showResult("注册失败：" + errorText(reply.body, reply.status), "error");
  }
}

async function onLogin() {
  const form = new FormData();
  setBusy(true);
  if (state.config && state.config.liveness_required) {
    showResult("请眨一下眼睛……");
    const frames = await captureBurst(Math.min(16, state.config.liveness_max_frames), 120);
    frames.forEach((frame, index) => form.append("frame", frame, "frame" + index + ".jpg"));
  } else {
    const photo = await captureFrame(640);
    if (photo) form.append("photo", photo, "login.jpg");
  }
  showResult("正在识别……");
  const reply = await callApi("POST", "/api/login", form);
  setBusy(false);
  if (!reply.ok) {
    showResult("登录失败：" + errorText(reply.body, reply.status), "error");
    return;
  }
  state.token = reply.body.token;
  sessionStorage.setItem("faceLoginToken", state.token);
  await showSession();
}

async function showSession() {
  if (!state.token) return;
  const reply = await callApi("GET", "/api/me", null, state.token);
  if (!reply.ok) {
    sessionStorage.removeItem("faceLoginToken");
    state.token = null;
    showResult(errorText(reply.body, reply.status), "error");
    return;
  }
  $("welcome-name").textContent = reply.body.user.name;
  $("session-detail").textContent = "已通过人脸验证登录。";
  $("session").hidden = false;
  $("camera-section").hidden = true;
  showResult("登录成功", "ok");
}

function onLogout() {
  sessionStorage.removeItem("faceLoginToken");
  state.token = null;
  $("session").hidden = true;
  $("camera-section").hidden = false;
  showResult("已退出登录。");
}

async function onDeleteAccount() {
  const name = $("welcome-name").textContent;
  if (!window.confirm("确定要注销账号“" + name + "”吗？人脸数据会被删除。")) return;
  const reply = await callApi("DELETE", "/api/users/" + encodeURIComponent(name), null, state.token);
  if (reply.ok) {
    onLogout();
    showResult("账号已注销，人脸数据已删除。", "ok");
  } else {
    showResult("注销失败：" + errorText(reply.body, reply.status), "error");
  }
}

async function init() {
  $("tab-login").addEventListener("click", () => selectTab("login"));
  $("tab-register").addEventListener("click", () => selectTab("register"));
  $("capture").addEventListener("click", onCapture);
  $("clear-photos").addEventListener("click", () => { state.photos = []; renderPhotos(); });
  $("register-form").addEventListener("submit", onRegister);
  $("login").addEventListener("click", onLogin);
  $("logout").addEventListener("click", onLogout);
  $("delete-account").addEventListener("click", onDeleteAccount);

  const reply = await callApi("GET", "/api/config");
  if (reply.ok) {
    state.config = reply.body;
    $("photo-max").textContent = String(Math.min(3, state.config.max_photos_per_user));
    $("liveness-hint").hidden = !state.config.liveness_required;
  }
  await startCamera();
  await showSession();
}

init();
