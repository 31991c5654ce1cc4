// Main page after login: GET /api/me checks the session token; DELETE /api/users/<name> removes the account.
const app = getApp();

Page({
  data: { userName: "", message: "" },

  onShow() {
    if (!app.globalData.token) {
      wx.redirectTo({ url: "/pages/index/index" });
      return;
    }
    wx.request({
      url: app.apiUrl("/api/me"),
      method: "GET",
      header: { Authorization: "Bearer " + app.globalData.token },
      success: (res) => {
        const body = app.parseBody(res);
        if (body.ok) {
          this.setData({ userName: body.user.name });
        } else {
          app.clearSession();
          wx.showToast({ title: app.errorText(body, res.statusCode), icon: "none" });
          wx.redirectTo({ url: "/pages/index/index" });
        }
      },
      fail: () => this.setData({ message: "无法连接服务器。" }),
    });
  },

  logout() {
    app.clearSession();
    wx.redirectTo({ url: "/pages/index/index" });
  },

  deleteAccount() {
    wx.showModal({
      title: "注销账号",
      content: "确定要注销吗？你的人脸数据会被删除。",
      success: (choice) => {
        if (!choice.confirm) return;
        wx.request({
          url: app.apiUrl("/api/users/" + encodeURIComponent(this.data.userName)),
          method: "DELETE",
          header: { Authorization: "Bearer " + app.globalData.token },
          success: (res) => {
            const body = app.parseBody(res);
            if (body.ok) {
              app.clearSession();
              wx.redirectTo({ url: "/pages/index/index" });
            } else {
              this.setData({ message: "注销失败：" + app.errorText(body, res.statusCode) });
            }
          },
        });
      },
    });
  },
});
