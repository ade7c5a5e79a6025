package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"html/template"

	"github.com/gofiber/fiber/v2"
)

// The sign-in pages are minimal on purpose: plain HTML forms, one inline
// script (allowed by a per-response CSP nonce), no external assets. They
// call the JSON routes and, in a connect flow, follow connectRedirect back
// to the partner. The full dashboard comes later.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>gellhub: {{.Title}}</title>
<style nonce="{{.Nonce}}">
body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.5rem;margin-bottom:.25rem}label{display:block;margin-top:1rem;font-weight:600}
input,select{width:100%;box-sizing:border-box;padding:.55rem;margin-top:.25rem;border:1px solid #9aa5b1;border-radius:6px;font:inherit}
button{margin-top:1.5rem;width:100%;padding:.7rem;border:0;border-radius:6px;background:#0d9488;color:#fff;font:inherit;font-weight:600;cursor:pointer}
button:disabled{opacity:.6}#connect{background:#f0fdfa;border:1px solid #99f6e4;padding:.6rem .8rem;border-radius:6px}
#error{color:#b91c1c;margin-top:1rem}#done{background:#f0f4f8;padding:.8rem;border-radius:6px;word-break:break-all}
.hidden{display:none}a{color:#0f766e}
</style></head>
<body>
<h1>{{.Title}}</h1>
<p id="connect" class="hidden"></p>
<form id="form" novalidate>
{{if .Register}}
<label for="displayName">Name of your studio or team</label>
<input id="displayName" name="displayName" required maxlength="120" autocomplete="organization">
{{end}}
<label for="email">Email</label>
<input id="email" name="email" type="email" required maxlength="254" autocomplete="email">
<label for="password">Password</label>
<input id="password" name="password" type="password" required minlength="{{if .Register}}8{{else}}1{{end}}" maxlength="256" autocomplete="{{if .Register}}new-password{{else}}current-password{{end}}">
{{if .Register}}
<label for="accountType">I am signing up for</label>
<select id="accountType" name="accountType"><option value="studio">Client Gallery (studio)</option><option value="drive">Drive</option></select>
{{end}}
<button id="submit" type="submit">{{.Button}}</button>
<p id="error" role="alert"></p>
</form>
<div id="done" class="hidden" role="status"></div>
<p>{{if .Register}}Already have an account? <a id="other" href="/login">Sign in</a>{{else}}New to gellhub? <a id="other" href="/register">Create an account</a>{{end}}</p>
<script nonce="{{.Nonce}}">
(function () {
  var register = {{.Register}};
  var form = document.getElementById('form'), err = document.getElementById('error');
  var planId = '', connectFlow = '';
  fetch('/api/integrations/connect/context', {credentials: 'same-origin'}).then(function (r) { return r.json(); }).then(function (ctx) {
    if (!ctx.active) return;
    connectFlow = ctx.connectFlow;
    var box = document.getElementById('connect');
    box.textContent = (register ? 'Create your gellhub account' : 'Sign in') + ' to connect it to ' + ctx.name + '.';
    box.classList.remove('hidden');
    if (register) {
      var sel = document.getElementById('accountType');
      if (ctx.product === 'drive') sel.value = 'drive';
      if (ctx.product === 'clientGallery') sel.value = 'studio';
      if (ctx.planId && ctx.product !== 'messaging') planId = ctx.planId;
    }
  }).catch(function () {});
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    err.textContent = '';
    var btn = document.getElementById('submit');
    btn.disabled = true;
    var body = {email: form.email.value, password: form.password.value};
    if (connectFlow) body.connectFlow = connectFlow;
    if (register) {
      body.displayName = form.displayName.value;
      body.accountType = form.accountType.value;
      if (planId) body.planId = planId;
    }
    fetch(register ? '/api/register' : '/api/login', {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return {ok: r.ok, j: j}; }); }).then(function (res) {
      var j = res.j;
      if (!res.ok) { err.textContent = j.message || 'Something went wrong.'; btn.disabled = false; return; }
      if (j.connectRedirect) { window.location.assign(j.connectRedirect); return; }
      if (j.checkoutUrl) { window.location.assign(j.checkoutUrl); return; }
      var done = document.getElementById('done');
      var lines = [register ? 'Your account is ready.' : 'You are signed in.'];
      if (j.connectError) lines.push(j.connectError);
      if (j.checkoutError) lines.push(j.checkoutError);
      if (j.apiKey) lines.push('Client Gallery API key (shown once): ' + j.apiKey, 'Drive API key (shown once): ' + j.driveApiKey);
      done.textContent = lines.join('\n');
      done.style.whiteSpace = 'pre-line';
      done.classList.remove('hidden');
      form.classList.add('hidden');
    }).catch(function () { err.textContent = 'gellhub could not be reached. Try again.'; btn.disabled = false; });
  });
})();
</script>
</body></html>`))

func (s *Server) registerPage(c *fiber.Ctx) error {
	return s.renderPage(c, true)
}

func (s *Server) loginPage(c *fiber.Ctx) error {
	return s.renderPage(c, false)
}

func (s *Server) renderPage(c *fiber.Ctx, register bool) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	nonce := base64.RawStdEncoding.EncodeToString(b[:])
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("X-Content-Type-Options", "nosniff")
	data := map[string]any{"Register": register, "Nonce": nonce, "Title": "Sign in to gellhub", "Button": "Sign in"}
	if register {
		data["Title"], data["Button"] = "Create your gellhub account", "Create account"
	}
	return pageTemplate.Execute(c.Response().BodyWriter(), data)
}
