/* The door page: check-in through the JSON API, the camera scanner, live counts, and an
   offline mode that checks tickets against a list kept on the phone (ticket hashes, names)
   and queues check-ins in IndexedDB until the connection returns. Without this script the
   page still works as plain forms. */
(function () {
  "use strict";
  var door = document.getElementById("door");
  if (!door || !window.fetch || !window.indexedDB) return;

  var eventId = Number(door.dataset.eventId);
  var api = door.dataset.api;  // …/api/v1/events/<id>
  var texts = JSON.parse(door.dataset.texts);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var resultBox = document.getElementById("result");
  var connection = document.getElementById("connection");
  var codeInput = document.getElementById("code");
  var device = localStorage.getItem("door-device") || ("d" + Math.random().toString(36).slice(2, 12));
  localStorage.setItem("door-device", device);
  var offline = !navigator.onLine;
  var list = [];  // this event's tickets: {ticket (sha256), registration_id, name, party_size, status, checked_in_people}

  // --- storage ------------------------------------------------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var open = indexedDB.open("eventsvc-door", 1);
    open.onupgradeneeded = function () {
      open.result.createObjectStore("lists", { keyPath: "event_id" });
      open.result.createObjectStore("queue", { keyPath: "nonce" });
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });
  function store(name, mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function queued() {
    return store("queue", "readonly", function (s) { return s.getAll(); }).then(function (items) {
      return items.filter(function (i) { return i.event_id === eventId; })
        .sort(function (a, b) { return a.order - b.order; });
    });
  }

  // --- the server -----------------------------------------------------------------------
  function call(method, path, body) {
    return fetch(api + path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept-Language": document.documentElement.lang },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      // 503: the server is there but cannot answer now (its database is down or busy): try
      // again later, as when offline; a scan goes into the queue.
      if (response.status === 503) throw new Error(texts.offline);
      return response.json().then(function (data) {
        if (!response.ok) { var e = new Error(data.error ? data.error.message : response.status); e.server = true; throw e; }
        return data;
      });
    });
  }
  function nonce() {
    return device + ":" + (window.crypto && crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(36).slice(2));
  }

  // --- showing results -------------------------------------------------------------------
  var tone = { checked_in: "ok", already_checked_in: "warn", too_many_people: "warn", waitlisted: "warn", undone: "neutral" };
  function show(result, message, checkinId, registrationId) {
    resultBox.className = "result result-" + (tone[result] || "bad");
    resultBox.innerHTML = "";
    var p = document.createElement("p");
    p.className = "result-title";
    p.textContent = (result === "checked_in" ? "✔ " : result === "undone" ? "↩ " : "✖ ") + message;
    resultBox.appendChild(p);
    if (checkinId) {
      var undo = document.createElement("button");
      undo.type = "button"; undo.className = "secondary"; undo.textContent = texts.undo;
      undo.addEventListener("click", function () {
        call("DELETE", "/checkins/" + checkinId).then(function (r) {
          show("undone", texts.undone);
          forget(registrationId, r.checked_in_people);
          refreshCounts();
        }).catch(function (error) { show("invalid", error.message); });
      });
      resultBox.appendChild(undo);
    }
  }
  function showConnection() {
    queued().then(function (items) {
      connection.hidden = false;
      connection.classList.toggle("is-online", !offline);
      connection.textContent = (offline ? texts.offline : texts.online) + " · " + items.length + " " + texts.waiting;
      connection.dataset.waiting = String(items.length);
    });
  }

  // --- online work ----------------------------------------------------------------------
  function refreshList() {
    return call("GET", "/checkins/offline").then(function (data) {
      list = data.tickets;
      return store("lists", "readwrite", function (s) { s.put({ event_id: eventId, tickets: list, at: data.generated_at }); })
        .then(function () { door.dataset.listSize = String(list.length); });
    });
  }
  function refreshCounts() {
    if (offline) return;
    call("GET", "/checkins/state").then(function (c) {
      door.querySelector('[data-count="checked_in"]').textContent = c.checked_in_people;
      door.querySelector('[data-count="confirmed"]').textContent = c.confirmed_people;
      door.querySelector('[data-count="walk_in"]').textContent = c.walk_in_people;
    }).catch(failed);
  }
  function sync() {
    return queued().then(function (items) {
      if (!items.length) return;
      return call("POST", "/checkins/sync", { checkins: items.map(function (i) { return i.item; }) }).then(function (data) {
        var duplicates = data.results.filter(function (r) { return r.result !== "checked_in"; });
        return store("queue", "readwrite", function (s) { items.forEach(function (i) { s.delete(i.nonce); }); }).then(function () {
          if (duplicates.length) {
            show("already_checked_in", texts.synced + " " + duplicates.map(function (r) { return r.message; }).join(" "));
          }
        });
      });
    }).then(function () { showConnection(); refreshCounts(); return refreshList(); });
  }
  function goOffline() { offline = true; showConnection(); }
  function failed(error) {
    if (error && error.server) { show("invalid", error.message); return; }  // signed out, expired page …
    goOffline();
  }
  function goOnline() { offline = false; showConnection(); sync().catch(failed); }
  window.addEventListener("offline", goOffline);
  window.addEventListener("online", goOnline);

  // The phone's list follows what the server says, so that a drop in signal right after an
  // online check-in cannot let the same people in twice.
  function forget(registrationId, checkedIn) {
    list.forEach(function (t) { if (t.registration_id === registrationId) t.checked_in_people = checkedIn; });
    store("lists", "readwrite", function (s) { s.put({ event_id: eventId, tickets: list }); });
  }

  // --- offline work: the list on the phone -------------------------------------------------
  function sha256(text) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buffer) {
      return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    });
  }
  function checkInLocally(entry, item) {
    var order = Date.now();
    if (entry.status !== "confirmed") { show(entry.status, texts[entry.status] + ": " + entry.name); return Promise.resolve(); }
    if (entry.checked_in_people >= entry.party_size) { show("already_checked_in", texts.already + ": " + entry.name); return Promise.resolve(); }
    var people = item.people || (entry.party_size - entry.checked_in_people);
    entry.checked_in_people += people;
    return store("queue", "readwrite", function (s) { s.put({ nonce: item.nonce, event_id: eventId, order: order, item: item }); })
      .then(function () {
        return store("lists", "readwrite", function (s) { s.put({ event_id: eventId, tickets: list }); });
      })
      .then(function () {
        show("checked_in", texts.checked_in + ": " + entry.name + " (" + entry.checked_in_people + "/" + entry.party_size + "). " + texts.queued);
        showConnection();
      });
  }
  function offlineCode(code, item) {
    return sha256(code).then(function (hash) {
      var entry = list.filter(function (t) { return t.ticket === hash; })[0];
      if (!entry) { show("invalid", texts.unknown_offline); return; }
      return checkInLocally(entry, item);
    });
  }

  // --- the forms ------------------------------------------------------------------------------
  function submitCode(code) {
    code = code.trim();
    if (!code) return;
    var item = { code: code, nonce: nonce(), device: device, scanned_at: new Date().toISOString() };
    var work = offline ? offlineCode(code, item) : call("POST", "/checkins", item).then(function (r) {
      var attendee = r.attendee;
      show(r.result, r.message, r.checkin_id, attendee && attendee.registration_id);
      if (attendee) forget(attendee.registration_id, attendee.checked_in_people);
      refreshCounts();
    }).catch(function (error) {
      if (error.server) { show("invalid", error.message); return; }
      goOffline();
      return offlineCode(code, item);
    });
    return work.then(function () { codeInput.value = ""; codeInput.focus(); });
  }
  document.getElementById("code-form").addEventListener("submit", function (e) {
    e.preventDefault();
    submitCode(codeInput.value);
  });

  document.getElementById("search-form").addEventListener("submit", function (e) {
    if (!offline) return;  // online: the server's list
    e.preventDefault();
    var words = document.getElementById("q").value.toLowerCase().split(/\s+/).filter(Boolean);
    var found = document.getElementById("found");
    found.innerHTML = "";
    list.filter(function (t) {
      return words.every(function (w) { return t.name.toLowerCase().indexOf(w) >= 0; });
    }).slice(0, 50).forEach(function (entry) {
      var li = document.createElement("li");
      li.textContent = entry.name + " · " + entry.checked_in_people + "/" + entry.party_size + " ";
      var button = document.createElement("button");
      button.type = "button"; button.textContent = texts.check_in;
      button.addEventListener("click", function () {
        checkInLocally(entry, { registration_id: entry.registration_id, nonce: nonce(), device: device, scanned_at: new Date().toISOString() });
      });
      li.appendChild(button);
      found.appendChild(li);
    });
  });

  // --- the camera (qr-scanner, vendored) ----------------------------------------------------------
  var cameraButton = document.getElementById("camera-button");
  var scanner = null, scanning = false, last = "", lastSeen = 0;
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    cameraButton.hidden = false;
    cameraButton.addEventListener("click", function () {
      var video = document.getElementById("camera");
      if (scanning) { scanner.stop(); video.hidden = true; scanning = false; return; }
      loadScanner().then(function () {
        // Visible before the scanner is made: given a hidden video, qr-scanner assumes it is
        // meant to stay hidden (shrinks it to nothing and drops the frame).
        video.hidden = false;
        if (!scanner) {
          // The scanner's frame, drawn by css/checkin.css: the library's own is an SVG with
          // inline styles, which the Content-Security-Policy refuses.
          var overlay = document.createElement("div");
          overlay.className = "camera-overlay";
          video.parentNode.insertBefore(overlay, video.nextSibling);
          scanner = new QrScanner(video, function (result) {
            var now = Date.now(), seen = lastSeen;
            lastSeen = now;  // a code held in view keeps being seen: submit it once
            if (result.data === last && now - seen < 3000) return;
            last = result.data;
            submitCode(result.data);
          }, { returnDetailedScanResult: true, highlightScanRegion: true, overlay: overlay });
        }
        return scanner.start().then(function () { scanning = true; });
      }).catch(function () { show("invalid", texts.camera_error); });
    });
  }
  function loadScanner() {
    if (window.QrScanner) return Promise.resolve();
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = door.dataset.scanner;
      // The decoder (qr-scanner-worker.min.js beside it) is imported by the library itself and
      // run as a Worker from a blob: URL (worker-src 'self' blob:).
      script.onload = function () { resolve(); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  // --- start --------------------------------------------------------------------------------------
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(door.dataset.sw, { scope: "/manage/" }).catch(function () {});
  }
  store("lists", "readonly", function (s) { return s.get(eventId); }).then(function (saved) {
    if (saved) list = saved.tickets;
    showConnection();
    if (!offline) return sync().catch(failed);
  });
  // Every 10 s: fresh counts, or (after a failed request) a try whether the network is back;
  // a weak signal may never fire the browser's "online" event.
  setInterval(function () {
    if (!offline) { refreshCounts(); return; }
    if (!navigator.onLine) return;
    sync().then(function () { offline = false; showConnection(); }).catch(failed);
  }, 10000);
})();
