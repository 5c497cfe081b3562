/* WeChat JSAPI payment: calls WeixinJSBridge with the order's signed parameters, then
   goes to the donor's follow page. Data comes from data- attributes: the CSP allows no
   inline script. Outside WeChat the bridge never appears and the page's link is used. */
(function () {
  "use strict";

  var box = document.querySelector("[data-wechat-pay]");
  if (!box) {
    return;
  }
  var followUrl = box.getAttribute("data-follow-url");
  var params;
  try {
    params = JSON.parse(box.getAttribute("data-pay-params") || "{}");
  } catch (e) {
    return;
  }

  function done() {
    // Paid, cancelled or failed: the follow page asks the channel and shows which.
    window.location.href = followUrl;
  }

  function pay() {
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, done);
  }

  if (typeof window.WeixinJSBridge === "undefined") {
    document.addEventListener("WeixinJSBridgeReady", pay, false);
  } else {
    pay();
  }
})();
