/* Keeps the check-in page loadable without a connection: pages under /manage/events/…/checkin
   and the static files they use are answered from the network when possible, else from cache.
   The page tells this worker its own address and files as soon as the worker is active, so
   they are kept from the first visit (that visit itself was loaded before the worker ran). */
var CACHE = "eventsvc-door-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function cacheable(url) {
  // Never a URL with a query (a search holds names): only the page itself and static files.
  return url.origin === self.location.origin && !url.search &&
    (/^\/manage\/events\/\d+\/checkin$/.test(url.pathname) || url.pathname.indexOf("/static/") === 0);
}

// A copy worth keeping: a real answer, not the sign-in page a lapsed session is sent to.
function keep(cache, request, response) {
  if (response.ok && !response.redirected) return cache.put(request, response);
  return Promise.resolve();
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var reply = event.ports && event.ports[0];
  if (data.type !== "keep" || !Array.isArray(data.urls)) return;
  var urls = data.urls.map(function (u) { return new URL(u, self.location.origin); }).filter(cacheable);
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      var request = new Request(url.href, { credentials: "same-origin" });
      return fetch(request).then(function (response) { return keep(cache, request, response); });
    }));
  }).then(function () {
    if (reply) reply.postMessage({ ok: true });
  }, function () {
    if (reply) reply.postMessage({ ok: false });
  }));
});

self.addEventListener("fetch", function (event) {
  var url = new URL(event.request.url);
  if (event.request.method !== "GET" || !cacheable(url)) return;  // the API is never cached
  event.respondWith(
    fetch(event.request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { return keep(cache, event.request, copy); });
      }
      // 503: the server cannot answer now (its database): the kept copy, as when offline.
      if (response.status === 503) {
        return caches.match(event.request, { ignoreVary: true }).then(function (kept) { return kept || response; });
      }
      return response;
    }).catch(function () {
      return caches.match(event.request, { ignoreVary: true });
    })
  );
});
