/* The door page: check-in through the JSON API, the camera scanner, live counts, search as
   one types, and an offline mode that checks tickets against a list kept on the phone (ticket
   hashes, booking codes, names) and queues check-ins in IndexedDB until the connection
   returns. Without this script the page still works as plain forms.
   After every action the code field has the focus again: a handheld scanner types into
   whatever has it, and its next code must never be lost. */
(function () {
  "use strict";
  var door = document.getElementById("door");
  if (!door || !window.fetch || !window.indexedDB) return;

  var eventId = Number(door.dataset.eventId);
  var api = door.dataset.api;  // …/api/v1/events/<id>
  var texts = JSON.parse(door.dataset.texts);
  var contacts = door.dataset.contacts === "yes";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var resultBox = document.getElementById("result");
  var connection = document.getElementById("connection");
  var codeInput = document.getElementById("code");
  var searchInput = document.getElementById("q");
  var found = document.getElementById("found");
  var foundStatus = document.getElementById("found-status");
  var device = localStorage.getItem("door-device") || ("d" + Math.random().toString(36).slice(2, 12));
  localStorage.setItem("door-device", device);
  var offline = !navigator.onLine;
  var list = [];  // this event's tickets: {ticket (sha256), booking_code, registration_id, name, party_size, status, checked_in_people, activities, needs, access_needs, needs_text, search}
  var counts = null;  // the server's last counts: {checked_in_people, confirmed_people, walk_in_people}
  var waitingPeople = 0;  // people in the queue, not yet in the server's counts
  var TICKET = /^[A-Za-z0-9_-]{43}$/;
  var BOOKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

  function focusCode() { codeInput.focus(); }

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
        tx.oncomplete = function () { resolve(result instanceof IDBRequest ? result.result : result); };
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
  function saveList() {
    return store("lists", "readwrite", function (s) { s.put({ event_id: eventId, tickets: list, counts: counts }); });
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
  function now() { return new Date().toISOString(); }

  // --- showing results -------------------------------------------------------------------
  var tone = { checked_in: "ok", synced: "ok", already_checked_in: "warn", too_many_people: "warn", waitlisted: "warn", undone: "neutral" };
  var sign = { ok: "✔ ", warn: "⚠ ", neutral: "↩ ", bad: "✖ " };
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  // What the door must know of a party: where they go, and what they need (the ramp).
  function partyDetails(parent, attendee) {
    if (!attendee) return;
    if (attendee.activities && attendee.activities.length) {
      parent.appendChild(element("p", "party-activities", texts.activities + ": " + attendee.activities.join(", ")));
    }
    var needsText = attendee.needs_text || attendee.needs;  // ticked needs as words, then the free text
    if (needsText) {
      var needs = element("p", "party-needs");
      needs.appendChild(element("strong", "", texts.needs + ":"));
      needs.appendChild(document.createTextNode(" " + needsText));
      parent.appendChild(needs);
    }
  }
  function show(result, message, attendee, checkinId) {
    var t = tone[result] || "bad";
    resultBox.className = "result result-" + t;
    resultBox.innerHTML = "";
    resultBox.appendChild(element("p", "result-title", sign[t] + message));
    if (result === "checked_in" || result === "already_checked_in" || result === "too_many_people") partyDetails(resultBox, attendee);
    if (checkinId) {
      var undo = element("button", "secondary", texts.undo);
      undo.type = "button";
      undo.addEventListener("click", function () {
        undo.disabled = true;
        call("DELETE", "/checkins/" + checkinId).then(function (r) {
          show("undone", r.message);
          focusCode();
          forget(r.registration_id, r.checked_in_people);
          refreshCounts();
          refreshSearch();
        }).catch(function (error) { show("invalid", error.message); focusCode(); });
      });
      resultBox.appendChild(undo);
    }
  }
  function showConnection() {
    return queued().then(function (items) {
      connection.hidden = false;
      connection.classList.toggle("is-online", !offline);
      connection.textContent = (offline ? texts.offline : texts.online) + " · " + items.length + " " + texts.waiting;
      connection.dataset.waiting = String(items.length);
      waitingPeople = items.reduce(function (sum, i) { return sum + (i.people || 0); }, 0);
      showCounts();
    });
  }
  // The server's counts and the people this phone has let in that it has not heard of yet.
  function showCounts() {
    if (!counts) return;
    door.querySelector('[data-count="checked_in"]').textContent = counts.checked_in_people + waitingPeople;
    door.querySelector('[data-count="confirmed"]').textContent = counts.confirmed_people;
    door.querySelector('[data-count="walk_in"]').textContent = counts.walk_in_people;
  }

  // --- online work ----------------------------------------------------------------------
  function refreshList() {
    return call("GET", "/checkins/offline").then(function (data) {
      list = data.tickets;
      return saveList().then(function () { door.dataset.listSize = String(list.length); });
    });
  }
  function refreshCounts() {
    if (offline) return Promise.resolve();
    return call("GET", "/checkins/state").then(function (c) {
      counts = c;
      showCounts();
      return saveList();
    }).catch(failed);
  }
  var syncing = null;
  function sync() {
    if (syncing) return syncing;  // the "online" event and the timer must not send a queue twice
    syncing = queued().then(function (items) {
      if (!items.length) return;
      return call("POST", "/checkins/sync", { checkins: items.map(function (i) { return i.item; }) }).then(function (data) {
        var sent = data.results.filter(function (r) { return r.result === "checked_in"; });
        var duplicates = data.results.filter(function (r) { return r.result !== "checked_in"; });
        return store("queue", "readwrite", function (s) { items.forEach(function (i) { s.delete(i.nonce); }); }).then(function () {
          if (duplicates.length) {
            show("already_checked_in", texts.synced + " " + duplicates.map(function (r) { return r.message; }).join(" "));
          } else {
            show("synced", texts.sent.replace("{n}", String(sent.length)));
          }
        });
      });
    }).then(function () {
      return refreshCounts();
    }).then(function () {
      return refreshList();
    }).then(function () {
      refreshSearch();  // rows shown before the sync show what the server knows now
      return showConnection();
    });
    syncing.then(done, done);
    function done() { syncing = null; }
    return syncing;
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
    saveList();
  }

  // --- offline work: the list on the phone -------------------------------------------------
  function sha256(text) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buffer) {
      return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    });
  }
  function bookingCode(typed) {
    var code = typed.replace(/[\s-]/g, "").toUpperCase();
    if (code.length !== 6) return null;
    for (var i = 0; i < code.length; i++) if (BOOKING_ALPHABET.indexOf(code[i]) < 0) return null;
    return code;
  }
  function checkInLocally(entry, item) {
    if (entry.status !== "confirmed") { show(entry.status, texts[entry.status] + ": " + entry.name); return Promise.resolve(); }
    if (entry.checked_in_people >= entry.party_size) { show("already_checked_in", texts.already + ": " + entry.name, entry); return Promise.resolve(); }
    var people = item.people || (entry.party_size - entry.checked_in_people);
    entry.checked_in_people += people;
    return store("queue", "readwrite", function (s) { s.put({ nonce: item.nonce, event_id: eventId, order: Date.now(), people: people, item: item }); })
      .then(saveList)
      .then(function () {
        show("checked_in", texts.checked_in + ": " + entry.name + " (" + entry.checked_in_people + "/" + entry.party_size + "). " + texts.queued, entry);
        return showConnection();
      });
  }
  function offlineCode(code, item) {
    var booking = TICKET.test(code) ? null : bookingCode(code);
    var match = booking
      ? Promise.resolve(function (t) { return t.booking_code === booking; })
      : sha256(code).then(function (hash) { return function (t) { return t.ticket === hash; }; });
    return match.then(function (matches) {
      var entry = list.filter(matches)[0];
      if (!entry) { show("invalid", texts.unknown_offline); return; }
      return checkInLocally(entry, item);
    });
  }

  // --- check-ins --------------------------------------------------------------------------------
  function sendCheckIn(item, entry) {
    if (offline) return entry ? checkInLocally(entry, item) : offlineCode(item.code, item);
    return call("POST", "/checkins", item).then(function (r) {
      var attendee = r.attendee;
      show(r.result, r.message, attendee, r.checkin_id);
      if (attendee) forget(attendee.registration_id, attendee.checked_in_people);
      refreshCounts();
    }).catch(function (error) {
      if (error.server) { show("invalid", error.message); return; }
      goOffline();
      return entry ? checkInLocally(entry, item) : offlineCode(item.code, item);
    });
  }
  function submitCode(code, byCamera) {
    code = code.trim();
    var after = byCamera ? function () {} : focusCode;  // the camera needs no keyboard over it
    if (!code) { after(); return Promise.resolve(); }
    if (!byCamera) codeInput.value = "";
    var item = { code: code, nonce: nonce(), device: device, scanned_at: now() };
    // The focus is back as soon as the result shows; the search's rows follow after.
    return sendCheckIn(item).catch(function () {}).then(function () { after(); return refreshSearch(); });
  }
  document.getElementById("code-form").addEventListener("submit", function (e) {
    e.preventDefault();
    submitCode(codeInput.value);
  });

  // --- search as one types -------------------------------------------------------------------------
  // The server's folding (eventsvc/folding.py), for the list on the phone.
  var LOOK_ALIKES = { "ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ŧ": "t", "æ": "ae", "œ": "oe", "ß": "ss" };
  function fold(text) {
    return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase()
      .replace(/[łøđðħıŧæœß]/g, function (c) { return LOOK_ALIKES[c]; });
  }
  function terms(query) {
    query = query.trim().slice(0, 100);
    if (/^\+?[0-9 ().-]+$/.test(query) && query.replace(/\D/g, "").length >= 3) return [query.replace(/\D/g, "")];
    return (fold(query).match(/[^\W_]+/gu) || []).slice(0, 5);
  }
  function searchLocally(query) {
    var wanted = terms(query).map(function (t) { return " " + t; });
    return list.filter(function (entry) {
      var text = entry.search || (" " + fold(entry.name));
      return wanted.every(function (w) { return text.indexOf(w) >= 0; });
    }).sort(function (a, b) { return a.name.localeCompare(b.name); }).slice(0, 50);
  }
  function row(entry) {
    var li = element("li");
    var name = element("p", "found-name");
    name.appendChild(element("strong", "", entry.name));
    name.appendChild(document.createTextNode(" · " + entry.checked_in_people + "/" + entry.party_size + " " + texts["in"] +
      (entry.status !== "confirmed" ? " · " + (texts[entry.status] || entry.status) : "")));
    li.appendChild(name);
    if (contacts && entry.phone) li.appendChild(element("p", "meta", entry.phone));
    partyDetails(li, entry);
    var remaining = entry.party_size - entry.checked_in_people;
    if (entry.status === "confirmed" && remaining > 0) {
      var form = element("div", "inline found-action");
      var select = element("select");
      select.id = "people-" + entry.registration_id;
      for (var k = remaining; k >= 1; k--) { var option = element("option", "", String(k)); option.value = String(k); select.appendChild(option); }
      var label = element("label", "visually-hidden", texts.people + ": " + entry.name);
      label.htmlFor = select.id;
      var button = element("button", "", texts.check_in);
      button.type = "button";
      button.appendChild(element("span", "visually-hidden", ": " + entry.name));
      button.addEventListener("click", function () {
        var people = Number(select.value);
        var item = { registration_id: entry.registration_id, people: people, nonce: nonce(), device: device, scanned_at: now() };
        var local = list.filter(function (t) { return t.registration_id === entry.registration_id; })[0];
        sendCheckIn(item, local || entry).catch(function () {}).then(function () { focusCode(); return refreshSearch(); });
      });
      if (remaining > 1) { form.appendChild(label); form.appendChild(select); }
      form.appendChild(button);
      li.appendChild(form);
    }
    return li;
  }
  var asked = 0;  // answers that come back out of order are dropped
  function runSearch(query) {
    var mine = ++asked;
    if (!terms(query).length) { render(query, []); return Promise.resolve(); }
    var answer = offline
      ? Promise.resolve(searchLocally(query))
      : call("GET", "/attendees?q=" + encodeURIComponent(query)).then(function (data) { return data.attendees; })
        .catch(function (error) { if (!error.server) goOffline(); return searchLocally(query); });
    return answer.then(function (rows) { if (mine === asked) render(query, rows); });
  }
  function render(query, rows) {
    found.innerHTML = "";
    rows.forEach(function (entry) { found.appendChild(row(entry)); });
    foundStatus.textContent = rows.length || !terms(query).length ? "" : texts.nothing_found.replace("{q}", query.trim());
    found.dataset.query = query;
  }
  function refreshSearch() { return searchInput.value.trim() ? runSearch(searchInput.value) : Promise.resolve(); }
  var typing = null;
  searchInput.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () { runSearch(searchInput.value); }, 150);
  });
  document.getElementById("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(typing);
    var value = searchInput.value.trim();
    // A scanner that typed into the search box: the code is checked in all the same.
    if (TICKET.test(value)) { searchInput.value = ""; render("", []); submitCode(value); return; }
    runSearch(searchInput.value);
  });

  // --- walk-ins ------------------------------------------------------------------------------------
  var walkIn = document.getElementById("walkin-form");
  walkIn.addEventListener("submit", function (e) {
    e.preventDefault();
    if (offline) { show("invalid", texts.walk_in_offline); focusCode(); return; }
    var name = document.getElementById("walkin-name").value;
    var people = Number(document.getElementById("walkin-people").value);
    call("POST", "/walkins", { name: name, people: people, nonce: nonce() }).then(function (r) {
      show(r.result, r.message, r.attendee, r.checkin_id);
      walkIn.reset();
      focusCode();
      refreshCounts();
      refreshList().catch(failed);  // the phone's list knows the new party too
    }).catch(function (error) {
      if (!error.server) { goOffline(); error.message = texts.walk_in_offline; }
      show("invalid", error.message);
      focusCode();
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
            submitCode(result.data, true);
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
  // The service worker keeps this page and its files from the first visit on: it is told
  // which they are, and fetches them into its cache (not only what passes through it later).
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(door.dataset.sw, { scope: "/manage/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var files = [location.pathname, door.dataset.scanner];
      document.querySelectorAll('link[rel="stylesheet"], script[src]').forEach(function (node) {
        files.push(node.href || node.src);
      });
      var channel = new MessageChannel();
      channel.port1.onmessage = function (message) { door.dataset.cached = message.data && message.data.ok ? "yes" : "no"; };
      registration.active.postMessage({ type: "keep", urls: files }, [channel.port2]);
    }).catch(function () {});
  }
  store("lists", "readonly", function (s) { return s.get(eventId); }).then(function (saved) {
    if (saved) {
      list = saved.tickets;
      door.dataset.listSize = String(list.length);
      // Offline, the page may be the service worker's older copy: the counts kept with the
      // list are the latest this phone heard.
      if (offline) counts = saved.counts || null;
    }
    if (!counts) {
      counts = {
        checked_in_people: Number(door.querySelector('[data-count="checked_in"]').textContent),
        confirmed_people: Number(door.querySelector('[data-count="confirmed"]').textContent),
        walk_in_people: Number(door.querySelector('[data-count="walk_in"]').textContent)
      };
    }
    return showConnection();
  }).then(function () {
    if (!offline) return sync().catch(failed);
  });
  // Every 10 s: fresh counts, or (after a failed request) a try whether the network is back;
  // a weak signal may never fire the browser's "online" event.
  setInterval(function () {
    if (!offline) { refreshCounts(); return; }
    if (!navigator.onLine) return;
    offline = false;
    sync().then(showConnection).catch(failed);
  }, 10000);
})();
