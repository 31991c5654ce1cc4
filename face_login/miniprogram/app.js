// Shared helpers: the API address, the session token, and the Chinese text for each API error code.
const config = require("./config.js");

const ERROR_MESSAGES = {
  missing_field: "请求缺少必要内容，请重新拍照。",
  unknown_field: "请求包含服务器不认识的字段，请更新客户端后重试。",
  invalid_name: "用户名不合法：请使用 1 到 32 个汉字、字母、数字、空格、下划线、横线或点。",
  invalid_image: "图片无法识别，请重新拍照。",
  image_too_large: "图片太大，请重新拍照。",
  request_too_large: "上传内容太大。",
  no_face: "没有检测到人脸，请正对镜头并保证光线充足。",
  multiple_faces: "画面中有多张人脸，请确保只有你一个人。",
  face_already_registered: "这张脸已经注册过其他账号。",
  user_exists: "该用户名已被注册，请换一个。",
  user_not_found: "用户不存在。",
  no_match: "未能识别你的身份，请先注册，或在光线更好的地方重试。",
  face_mismatch: "人脸与该用户不匹配。",
  liveness_required: "服务器要求活体检测，请使用网页版登录。",
  rate_limited: "尝试次数过多，请稍后再试。",
  user_locked: "该账号失败次数过多，已暂时锁定，请稍后再试。",
  missing_token: "请先登录。",
  invalid_token: "登录状态已失效，请重新登录。",
  token_expired: "登录已过期，请重新登录。",
};

App({
  globalData: { token: null, userName: null },

  apiUrl(path) {
    return config.API_BASE_URL.replace(/\/$/, "") + path;
  },

  // wx.uploadFile returns the body as a string; wx.request parses JSON itself.
  parseBody(res) {
    if (typeof res.data !== "string") return res.data || {};
    try {
      return JSON.parse(res.data);
    } catch (error) {
      return { ok: false, error: { code: "bad_response", message: res.data.slice(0, 100) } };
    }
  },

  errorText(body, statusCode) {
    const code = body && body.error && body.error.code;
    return ERROR_MESSAGES[code] || "出错了（HTTP " + statusCode + "），请稍后重试。";
  },

  saveSession(token, userName) {
    this.globalData.token = token;
    this.globalData.userName = userName;
    wx.setStorageSync("faceLoginToken", token);
  },

  clearSession() {
    this.globalData.token = null;
    this.globalData.userName = null;
    wx.removeStorageSync("faceLoginToken");
  },

  onLaunch() {
    this.globalData.token = wx.getStorageSync("faceLoginToken") || null;
  },
});
