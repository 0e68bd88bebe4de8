// Shared by every page: the CSRF token on every unsafe request the page
// makes (htmx and fetch), and a small JSON helper for the API.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const token = meta ? meta.content : "";

  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRFToken"] = token;
  });

  // api("/api/sessions?...") or api(url, {method: "POST", body: {...}}):
  // the signed-in session authenticates; answers {status, ok, data}.
  window.practiceApi = async function (url, options) {
    const opts = Object.assign({method: "GET"}, options || {});
    const headers = {"Accept": "application/json"};
    if (opts.method !== "GET" && opts.method !== "HEAD") {
      headers["X-CSRFToken"] = token;
      headers["Content-Type"] = "application/json";
    }
    const resp = await fetch(url, {
      method: opts.method, headers: headers, credentials: "same-origin",
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    let data = null;
    try { data = await resp.json(); } catch (err) { data = null; }
    return {status: resp.status, ok: resp.ok, data: data};
  };
})();
