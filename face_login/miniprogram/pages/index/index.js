// Entry page: choose login or registration; an existing session goes straight to the main page.
const app = getApp();

Page({
  onShow() {
    if (app.globalData.token) {
      wx.redirectTo({ url: "/pages/main/main" });
    }
  },

  goLogin() {
    wx.navigateTo({ url: "/pages/face/face?mode=login" });
  },

  goRegister() {
    wx.navigateTo({ url: "/pages/face/face?mode=register" });
  },
});
