// The dashboard's only script: refreshes the page's live part (#live)
// every few seconds while "live" is ticked, by fetching the same page and
// swapping that element. Pages work without it.
(function () {
  'use strict';
  var PERIOD_MS = 3000;
  var toggle = document.getElementById('live-toggle');
  var live = document.getElementById('live');
  if (!toggle || !live) return;
  var busy = false;
  function refresh() {
    if (!toggle.checked || busy || document.hidden) return;
    var active = document.activeElement;
    if (active && live.contains(active) && active.tagName !== 'A' && active.tagName !== 'BODY') return;
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var fresh = doc.getElementById('live');
        if (fresh) {
          live.replaceChildren.apply(live, Array.prototype.slice.call(fresh.childNodes).map(function (n) {
            return document.importNode(n, true);
          }));
          live.setAttribute('data-refreshed', String(Date.now()));
        }
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { busy = false; });
  }
  window.setInterval(refresh, PERIOD_MS);
})();
