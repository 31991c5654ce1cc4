// Address of the face_login server. A real phone needs an HTTPS domain that is listed as a "request
// legal domain" and "uploadFile legal domain" in the mini-program admin console; see README.md.
module.exports = {
  API_BASE_URL: "https://face-login.example.com",
};
