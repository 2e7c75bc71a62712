/* Keeps the check-in page loadable without a connection: pages under /manage/events/…/checkin
   and the static files they use are answered from the network when possible, else from cache. */
var CACHE = "eventsvc-door-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function cacheable(url) {
  // Never a URL with a query (a search holds names): only the page itself and static files.
  return url.origin === self.location.origin && !url.search &&
    (/^\/manage\/events\/\d+\/checkin$/.test(url.pathname) || url.pathname.indexOf("/static/") === 0);
}

self.addEventListener("fetch", function (event) {
  var url = new URL(event.request.url);
  if (event.request.method !== "GET" || !cacheable(url)) return;  // the API is never cached
  event.respondWith(
    fetch(event.request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(event.request, copy); });
      }
      // 503: the server cannot answer now (its database): the kept copy, as when offline.
      if (response.status === 503) {
        return caches.match(event.request).then(function (kept) { return kept || response; });
      }
      return response;
    }).catch(function () {
      return caches.match(event.request);
    })
  );
});
