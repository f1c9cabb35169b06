package devstack

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
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
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src "+st.URLs.Connect+"; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
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
	mux.HandleFunc("GET /auth/callback", st.serveCallback)
}

// serveCallback is the HTTP API's GET /auth/callback route: the request as payload format 2.0
// to the authredirect function through the Lambda runtime adapter, its response back.
func (st *Stack) serveCallback(w http.ResponseWriter, r *http.Request) {
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /auth/callback", RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Headers: headers, QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: st.Account, APIID: "devstack", DomainName: r.Host, RequestID: newUUID(), RouteKey: "GET /auth/callback", Stage: "$default",
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
	body := []byte(resp.Body)
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
window.received = [];
window.authURL = null;
window.fetchError = null;
var d = document.body.dataset;
var callbackOrigin = new URL(d.redirect).origin;
window.addEventListener("message", function (e) {
  if (e.origin !== callbackOrigin) { return; }
  window.received.push({ origin: e.origin, data: e.data });
  if (e.data && typeof e.data.outcome === "string") {
    document.getElementById("outcome").textContent = e.data.outcome;
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
document.getElementById("signin").addEventListener("click", function () {
  window.popup = window.open(window.authURL, "switchboard-auth", "popup,width=480,height=640");
});
`
