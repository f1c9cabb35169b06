package devstack

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The demo chat page: a stand-in for the chat widget that runs the customer authentication
// popup flow through connectsim's Participant Service and Cognito stand-in and the
// authredirect function, behind an API Gateway HTTP API stand-in at /auth/callback.

// chatHandlers adds GET /chat, GET /chat.js and GET /auth/callback to mux.
func (st *Stack) chatHandlers(mux *http.ServeMux) {
	mux.HandleFunc("GET /chat", func(w http.ResponseWriter, r *http.Request) {
		ca, err := st.Sim.StartChatAuthentication(st.InstanceID)
		if err != nil {
			http.Error(w, "connectsim could not start a chat: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src "+st.URLs.Connect+"; frame-ancestors 'none'; base-uri 'none'; form-action 'self' "+st.URLs.Connect)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = chatPage.Execute(w, map[string]string{"Sim": st.URLs.Connect, "Token": ca.ParticipantToken, "Session": ca.SessionID,
			"Redirect": st.URLs.Status + "/auth/callback", "Contact": ca.ContactID})
	})
	mux.HandleFunc("GET /chat.js", func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(chatJS))
	})
	// The HTTP API's routes, as infra/authredirect.go declares them.
	mux.HandleFunc("GET /auth/callback", st.serveCallback)
	mux.HandleFunc("POST /auth/callback", st.serveCallback)
	mux.HandleFunc("POST /auth/start", st.serveCallback)
}

// serveCallback is the HTTP API's routes of the authredirect function (GET and POST
// /auth/callback, POST /auth/start): the request as payload format 2.0 (cookies in their own
// field, a body of at most 64 KiB) to the function through the Lambda runtime adapter, its
// response back.
func (st *Stack) serveCallback(w http.ResponseWriter, r *http.Request) {
	headers := map[string]string{}
	for k, v := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "cannot read the request", http.StatusBadRequest)
		return
	}
	routeKey := r.Method + " " + r.URL.Path
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Headers: headers, QueryStringParameters: query, Cookies: cookies, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: st.Account, APIID: "devstack", DomainName: r.Host, RequestID: newUUID(), RouteKey: routeKey, Stage: "$default",
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent()},
		},
	}
	payload, err := json.Marshal(req)
	if err != nil {
		http.Error(w, "cannot encode the request", http.StatusInternalServerError)
		return
	}
	out, err := st.Functions.invoke(r.Context(), FnAuthRedirect, payload)
	var resp events.APIGatewayV2HTTPResponse
	if err == nil {
		err = json.Unmarshal(out, &resp)
	}
	if err != nil {
		// API Gateway answers a failed integration with a bare 500.
		st.log.Error("auth callback: the function failed", "error", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body = []byte(resp.Body)
	if resp.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
	}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

var chatPage = template.Must(template.New("chat").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Switchboard devstack: chat sign-in</title>
<link rel="stylesheet" href="/status.css">
</head>
<body data-sim="{{.Sim}}" data-token="{{.Token}}" data-session="{{.Session}}" data-redirect="{{.Redirect}}">
<h1>Chat sign-in (demo)</h1>
<p>A chat contact of connectsim has reached an Authenticate Customer block. Sign in opens
connectsim's Cognito stand-in in a popup; it redirects to the authredirect function, which calls
UpdateParticipantAuthentication and tells this page the outcome.</p>
<p><button id="signin" disabled>Sign in</button></p>
<p>Outcome: <output id="outcome">waiting</output></p>
<script src="/chat.js"></script>
</body>
</html>
`))

const chatJS = `"use strict";
// The widget side of the chat authentication, as docs/authredirect.md documents it: the popup opens
// through a form POST to /auth/start, the page confirms the popup's challenge with the state of the
// session it started, and takes the outcome only from its own popup for the attempt it confirmed.
window.received = [];
window.authURL = null;
window.fetchError = null;
var d = document.body.dataset;
var CALLBACK_ORIGIN = new URL(d.redirect).origin;
var signInState = null, signInAttempt = null;
window.popup = null;
function openSignIn(authenticationUrl) {
  signInState = new URL(authenticationUrl).searchParams.get("state");
  window.popup = window.open("about:blank", "switchboard-auth", "popup,width=480,height=640");
  var form = document.createElement("form");
  form.method = "POST"; form.action = CALLBACK_ORIGIN + "/auth/start"; form.target = "switchboard-auth";
  var input = document.createElement("input");
  input.type = "hidden"; input.name = "authentication_url"; input.value = authenticationUrl;
  form.append(input); document.body.append(form); form.submit(); form.remove();
}
window.addEventListener("message", function (e) {
  if (e.source !== window.popup || e.origin !== CALLBACK_ORIGIN) { return; }
  var m = e.data;
  if (!m || m.source !== "switchboard-auth") { return; }
  if (m.type === "challenge") {
    signInAttempt = m.attempt;
    window.popup.postMessage({ source: "switchboard-auth", type: "confirm", attempt: m.attempt, state: signInState }, CALLBACK_ORIGIN);
  } else if (m.type === "outcome" && m.attempt === signInAttempt) {
    window.received.push({ origin: e.origin, data: m });
    document.getElementById("outcome").textContent = m.outcome;
  }
});
fetch(d.sim + "/participant/authentication-url", {
  method: "POST",
  headers: { "Content-Type": "application/json", "X-Amz-Bearer": d.token },
  body: JSON.stringify({ SessionId: d.session, RedirectUri: d.redirect })
}).then(function (r) {
  if (!r.ok) { throw new Error("GetAuthenticationUrl answered " + r.status); }
  return r.json();
}).then(function (j) {
  window.authURL = j.AuthenticationUrl;
  document.getElementById("signin").disabled = false;
}).catch(function (e) { window.fetchError = String(e); document.getElementById("outcome").textContent = String(e); });
document.getElementById("signin").addEventListener("click", function () { openSignIn(window.authURL); });
`
