/* gellhub chat widget: no build step; server values go through textContent and DOM APIs only. */
(function () {
  'use strict';
  if (window.GellHubChat) return;
  var me = document.currentScript;
  if (!me) {
    var all = document.querySelectorAll('script[src*="/embed/gellhub-chat.js"]');
    me = all[all.length - 1];
  }
  if (!me) return;
  var ds = me.dataset, base = new URL(me.src, location.href).origin;
  var embedId = ds.embedId || '', page = ds.mode === 'page';
  var floating = !page && ds.launcher !== 'false';
  var cfg = null, loading = null, isOpen = false, busy = false, failed = false, handedOff = false;
  var host, root, launcher, panel, log, form, input, send, note;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function safeURL(u, httpsOnly) {
    try {
      var p = new URL(String(u), base);
      if (p.protocol === 'https:' || (!httpsOnly && p.protocol === 'http:')) return p.href;
    } catch (e) {}
    return '';
  }
  // contactURL keeps a handoff link's https:, mailto: or tel: URL; '' otherwise.
  function contactURL(u) {
    try {
      var p = new URL(String(u));
      if (p.protocol === 'https:' || p.protocol === 'mailto:' || p.protocol === 'tel:') return p.href;
    } catch (e) {}
    return '';
  }
  function visitor() {
    var k = 'gellhub-visitor:' + embedId, v = '';
    try { v = localStorage.getItem(k) || ''; } catch (e) {}
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) {
      var b = new Uint8Array(16);
      crypto.getRandomValues(b);
      v = 'v_' + Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
      try { localStorage.setItem(k, v); } catch (e) {}
    }
    return v;
  }
  var CSS = ':host{all:initial}*{box-sizing:border-box;font:14px/1.45 system-ui,sans-serif}' +
    '.l{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000;display:flex;align-items:center;justify-content:center;padding:0}' +
    '.l img{width:32px;height:32px;object-fit:contain}' +
    '.p{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);height:520px;max-height:calc(100vh - 110px);background:#fff;color:#1f2933;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000}' +
    '.pg .p{position:static;width:100%;max-width:none;height:100vh;max-height:none;border-radius:0;box-shadow:none}' +
    '.h{color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between;font-weight:600}' +
    '.h button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}' +
    '.m{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f7f9fb}' +
    '.b{max-width:85%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}' +
    '.a{align-self:flex-start;background:#fff;border:1px solid #e4e7eb}.u{align-self:flex-end;color:#fff}' +
    '.n{align-self:center;font-size:12px;color:#52606d;text-align:center}' +
    '.ui{align-self:stretch;display:flex;flex-wrap:wrap;gap:6px}' +
    '.ui button,.ui a.btn{border:1px solid currentColor;background:#fff;border-radius:8px;padding:6px 10px;cursor:pointer;text-decoration:none;text-align:left}' +
    '.ui small{display:block;color:#52606d;font-size:12px}' +
    '.c{width:100%;border:1px solid #e4e7eb;border-radius:10px;background:#fff;overflow:hidden}.c img{width:100%;max-height:160px;object-fit:cover;display:block}.c div{padding:8px 10px}' +
    '.c a{font-weight:600}iframe{width:100%;border:0;border-radius:8px;background:#fff}' +
    'form{display:flex;gap:6px;padding:10px;border-top:1px solid #e4e7eb;background:#fff}' +
    'input{flex:1;padding:9px;border:1px solid #9aa5b1;border-radius:8px;min-width:0}' +
    'form button{border:0;border-radius:8px;color:#fff;padding:0 14px;cursor:pointer;font-weight:600}button:disabled{opacity:.6}' +
    '.x{position:fixed;right:20px;bottom:84px;background:#323f4b;color:#fff;font-size:12px;padding:4px 9px;border-radius:6px;z-index:2147483000}' +
    '.hid{display:none!important}';

  function mount() {
    if (host) return;
    host = el('div');
    host.id = 'gellhub-chat';
    host.setAttribute('data-state', 'idle');
    root = host.attachShadow ? host.attachShadow({mode: 'open'}) : host;
    var st = el('style');
    if (me.nonce) st.nonce = me.nonce;
    st.textContent = CSS;
    root.appendChild(st);
    var wrap = el('div', page ? 'pg' : '');
    root.appendChild(wrap);
    if (floating) {
      launcher = el('button', 'l');
      launcher.type = 'button';
      launcher.setAttribute('aria-label', ds.chatTitle || 'Chat');
      setIcon(ds.launcherIcon);
      launcher.addEventListener('click', function () { isOpen ? close() : open(); });
      wrap.appendChild(launcher);
    }
    note = el('div', 'x hid', 'Chat unavailable');
    note.setAttribute('role', 'status');
    wrap.appendChild(note);
    panel = el('div', 'p hid');
    panel.setAttribute('role', 'dialog');
    var head = el('div', 'h'), title = el('span', 't', ds.chatTitle || 'Chat');
    head.appendChild(title);
    if (!page) {
      var x = el('button', '', '\u00d7');
      x.type = 'button';
      x.setAttribute('aria-label', 'Close chat');
      x.addEventListener('click', close);
      head.appendChild(x);
    }
    log = el('div', 'm');
    log.setAttribute('aria-live', 'polite');
    form = el('form');
    input = el('input');
    input.setAttribute('aria-label', 'Message');
    input.placeholder = 'Type a message\u2026';
    send = el('button', '', 'Send');
    send.type = 'submit';
    form.appendChild(input);
    form.appendChild(send);
    form.addEventListener('submit', function (ev) { ev.preventDefault(); say(input.value); });
    panel.appendChild(head);
    panel.appendChild(log);
    panel.appendChild(form);
    wrap.appendChild(panel);
    (document.body || document.documentElement).appendChild(host);
    paint('#0d9488');
  }
  function setIcon(icon) {
    if (!launcher) return;
    launcher.textContent = '';
    var u = /^https:/i.test(icon || '') ? safeURL(icon, true) : '';
    if (u) {
      var img = el('img');
      img.alt = '';
      img.src = u;
      launcher.appendChild(img);
    } else {
      launcher.textContent = icon || '\ud83d\udcac';
    }
  }
  function paint(c) {
    if (!/^#[0-9a-fA-F]{3,8}$/.test(c || '')) return;
    if (launcher) launcher.style.background = c;
    panel.querySelector('.h').style.background = c;
    send.style.background = c;
    panel.dataset.accent = c;
  }
  function state(s) { host.setAttribute('data-state', s); }
  // unavailable keeps the widget closed; show reveals the discreet note.
  function unavailable(show) {
    failed = true;
    isOpen = false;
    panel.classList.add('hid');
    if (launcher) launcher.disabled = true;
    if (show) note.classList.remove('hid');
    if (show && page) note.className = 'n';
    state('unavailable');
  }

  function load() {
    if (loading) return loading;
    loading = fetch(base + '/api/messaging/embed/v1/config?embedId=' + encodeURIComponent(embedId), {credentials: 'omit'})
      .then(function (r) { if (!r.ok) throw new Error('config ' + r.status); return r.json(); })
      .then(function (c) {
        cfg = c;
        if (c.chatTitle && !ds.chatTitle) panel.querySelector('.t').textContent = c.chatTitle;
        paint(c.accentColor);
        if (!ds.launcherIcon) setIcon(c.launcherIcon);
        if (launcher && c.showLauncher === false && ds.launcher !== 'true') launcher.classList.add('hid');
        if (c.maxUserMessageChars > 0) input.maxLength = c.maxUserMessageChars;
        if (c.greeting) bubble('a', c.greeting);
        if (!isOpen) state('ready');
        return c;
      })
      .catch(function (e) { unavailable(false); throw e; });
    return loading;
  }

  function open() {
    mount();
    if (failed) { unavailable(true); return; }
    state('loading');
    load().then(function () {
      isOpen = true;
      panel.classList.remove('hid');
      state('open');
      if (!page) input.focus();
    }, function () { unavailable(true); });
  }
  function close() {
    if (!host) return;
    isOpen = false;
    panel.classList.add('hid');
    if (!failed) state(cfg ? 'ready' : 'idle');
  }

  function bubble(kind, text) {
    var b = el('div', 'b ' + kind, text);
    if (kind === 'u') b.style.background = panel.dataset.accent || '#0d9488';
    log.appendChild(b);
    log.scrollTop = log.scrollHeight;
    return b;
  }
  function say(text) {
    text = String(text || '').trim();
    if (!text || busy || !cfg) return;
    var max = cfg.maxUserMessageChars || 1000;
    if (Array.from(text).length > max) { bubble('n', 'Messages are limited to ' + max + ' characters.'); return; }
    busy = true;
    send.disabled = true;
    input.value = '';
    bubble('u', text);
    var wait = bubble('n', '\u2026');
    fetch(base + '/api/messaging/embed/v1/chat', {
      method: 'POST', credentials: 'omit', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({embedId: embedId, visitorId: visitor(), message: text})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return {r: r, j: j}; });
    }).then(function (x) {
      wait.remove();
      if (x.r.status === 403 || x.r.status === 404) { unavailable(true); return; }
      if (!x.r.ok) { bubble('n', x.j.message || 'Something went wrong. Try again.'); return; }
      // A conversation a person has taken over answers content "": no bubble.
      if (x.j.content) bubble('a', x.j.content);
      if (x.j.ui) renderUI(x.j.ui);
      if (x.j.handoff) handoff(x.j.handoffUrls);
    }).catch(function () {
      wait.remove();
      bubble('n', 'The chat could not be reached. Try again.');
    }).then(function () { busy = false; send.disabled = false; });
  }
  // handoff shows the notice and the agent's links, and tells the parent
  // page, once per page: every later turn of a handed-off conversation
  // says handoff too.
  function handoff(links) {
    if (handedOff) return;
    handedOff = true;
    bubble('n', 'A member of the team has been asked to follow up.');
    var box = el('div', 'ui');
    box.style.color = panel.dataset.accent || '#0d9488';
    (Array.isArray(links) ? links.slice(0, 5) : []).forEach(function (l) {
      if (!l || typeof l !== 'object' || !l.label) return;
      var u = contactURL(l.url);
      if (!u) return;
      var a = el('a', 'btn', l.label);
      a.href = u; a.target = '_blank'; a.rel = 'noopener noreferrer';
      box.appendChild(a);
    });
    if (box.firstChild) { log.appendChild(box); log.scrollTop = log.scrollHeight; }
    if (window.parent && window.parent !== window) {
      try { window.parent.postMessage({type: 'gellhub:handoff', embedId: embedId}, '*'); } catch (e) {}
    }
  }

  function renderUI(ui) {
    if (!ui || typeof ui !== 'object') return;
    var box = el('div', 'ui'), items = Array.isArray(ui.items) ? ui.items.slice(0, 20) : [];
    box.style.color = panel.dataset.accent || '#0d9488';
    items.forEach(function (it) {
      if (!it || typeof it !== 'object') return;
      if (ui.type === 'slot_list') {
        var s = el('button', '', it.title || it.id || '');
        s.type = 'button';
        if (it.subtitle) s.appendChild(el('small', '', it.subtitle));
        s.addEventListener('click', function () { say(it.title || it.id); });
        box.appendChild(s);
      } else if (ui.type === 'product_cards') {
        var c = el('div', 'c'), img = safeURL(it.imageUrl, true), link = safeURL(it.actionUrl);
        if (img) { var i = el('img'); i.alt = ''; i.src = img; c.appendChild(i); }
        var body = el('div');
        var t = link ? el('a', '', it.title || link) : el('strong', '', it.title || '');
        if (link) { t.href = link; t.target = '_blank'; t.rel = 'noopener noreferrer'; }
        body.appendChild(t);
        if (it.price != null && it.price !== '') body.appendChild(el('small', '', it.price));
        c.appendChild(body);
        box.appendChild(c);
      } else if (ui.type === 'buttons') {
        var label = it.label || it.title || it.message || '', url = safeURL(it.url);
        if (it.action === 'url' || (!it.action && url && !it.message)) {
          if (!url) return;
          var a = el('a', 'btn', label || url);
          a.href = url; a.target = '_blank'; a.rel = 'noopener noreferrer';
          box.appendChild(a);
        } else {
          var msg = it.message || label;
          if (!msg) return;
          var bt = el('button', '', label || msg);
          bt.type = 'button';
          bt.addEventListener('click', function () { say(msg); });
          box.appendChild(bt);
        }
      }
    });
    if (ui.type === 'iframe') {
      var src = safeURL(ui.url, true);
      if (!src) return;
      var f = el('iframe');
      f.src = src;
      f.setAttribute('sandbox', 'allow-scripts allow-forms allow-same-origin allow-popups');
      f.setAttribute('referrerpolicy', 'no-referrer');
      var h = parseInt(ui.height, 10);
      f.style.height = (h >= 100 && h <= 1200 ? h : 420) + 'px';
      box.appendChild(f);
    }
    if (box.childNodes.length) { log.appendChild(box); log.scrollTop = log.scrollHeight; }
  }

  window.GellHubChat = {open: open, close: close};
  function start() {
    if (page) { open(); return; }
    if (floating) mount();
    var idle = window.requestIdleCallback || function (f) { return setTimeout(f, 2000); };
    idle(function () { mount(); load().catch(function () {}); }, {timeout: 4000});
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
