// Camera page: take a photo with the camera component and upload it with wx.uploadFile, either to
// POST /api/users (register: form field "name", file field "photo") or to POST /api/login (file field "photo").
const app = getApp();

Page({
  data: { mode: "login", name: "", busy: false, message: "", messageClass: "hint" },

  onLoad(query) {
    this.setData({ mode: query.mode === "register" ? "register" : "login" });
    wx.setNavigationBarTitle({ title: this.data.mode === "register" ? "注册人脸" : "刷脸登录" });
  },

  onNameInput(event) {
    this.setData({ name: event.detail.value });
  },

  onCameraError() {
    this.showMessage("无法使用摄像头，请在设置中允许本小程序使用摄像头。", "error");
  },

  showMessage(message, messageClass) {
    this.setData({ message, messageClass: messageClass || "hint" });
  },

  takePhoto() {
    const name = this.data.name.trim();
    if (this.data.mode === "register" && !name) {
      this.showMessage("请输入用户名。", "error");
      return;
    }
    const camera = wx.createCameraContext();
    this.setData({ busy: true });
    camera.takePhoto({
      quality: "normal",
      success: (photo) => {
        if (this.data.mode === "register") {
          this.register(photo.tempImagePath, name);
        } else {
          this.login(photo.tempImagePath);
        }
      },
      fail: () => {
        this.setData({ busy: false });
        this.showMessage("拍照失败，请重试。", "error");
      },
    });
  },

  register(filePath, name) {
    this.showMessage("正在注册……");
    wx.uploadFile({
      url: app.apiUrl("/api/users"),
      filePath,
      name: "photo",
      formData: { name: name },
      success: (res) => {
        const body = app.parseBody(res);
        if (body.ok) {
          this.showMessage("注册成功：" + body.user.name + "。现在可以刷脸登录了。", "ok");
          this.setData({ mode: "login" });
        } else {
          this.showMessage("注册失败：" + app.errorText(body, res.statusCode), "error");
        }
      },
      fail: () => this.showMessage("无法连接服务器，请检查网络和服务器地址。", "error"),
      complete: () => this.setData({ busy: false }),
    });
  },

  login(filePath) {
    this.showMessage("正在识别……");
    wx.uploadFile({
      url: app.apiUrl("/api/login"),
      filePath,
      name: "photo",
      success: (res) => {
        const body = app.parseBody(res);
        if (body.ok) {
          app.saveSession(body.token, body.user.name);
          wx.redirectTo({ url: "/pages/main/main" });
        } else {
          this.showMessage("登录失败：" + app.errorText(body, res.statusCode), "error");
        }
      },
      fail: () => this.showMessage("无法连接服务器，请检查网络和服务器地址。", "error"),
      complete: () => this.setData({ busy: false }),
    });
  },
});
