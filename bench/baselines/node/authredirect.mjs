// The chat-authentication redirect a team would write in Node.js 20 with AWS SDK v3, equivalent to
// Switchboard's functions/authredirect for what the benchmark measures: the Connect and DynamoDB
// clients built at init, and GET /auth/callback (the page Amazon Cognito redirects the sign-in popup
// to): the query checked as the Go function checks it (sizes, one value per name, printable ASCII,
// code xor error), a fresh attempt identifier and CSP nonce, the same handshake page with its
// values escaped for a script context, the same security headers, one JSON log line with a hash
// prefix of the state (never the state or the code). It does not implement POST (the completion
// that claims the state and calls UpdateParticipantAuthentication). bench/cmd/flowbench runs it
// under ric.mjs with _HANDLER=authredirect.handler.
import { createHash, randomBytes } from "node:crypto";
import { ConnectClient } from "@aws-sdk/client-connect";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export const connect = new ConnectClient({});
export const dynamo = new DynamoDBClient({});
const chatOrigin = process.env.CHAT_ORIGIN;
if (!/^https:\/\/[a-z0-9.-]+(:[0-9]+)?$/.test(chatOrigin ?? "")) throw new Error("CHAT_ORIGIN must be an https origin");

const MAX_QUERY = 16 * 1024, MAX_STATE = 1000, MAX_CODE = 2048;
const PRINTABLE = /^[\x20-\x7e]*$/;
// JSON, with <, > and & escaped, is safe inside a script element.
const js = (v) => JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
const nonce64 = () => randomBytes(16).toString("base64url");

function parse(raw) {
  if (raw.length > MAX_QUERY) return "query string too long";
  const q = new URLSearchParams(raw);
  for (const n of ["state", "code", "error", "error_description"]) if (q.getAll(n).length > 1) return `${n} is given more than once`;
  const state = q.get("state"), code = q.get("code"), error = q.get("error");
  if (!state) return "state is missing";
  if ([...state].length > MAX_STATE) return "state is too long";
  if (!PRINTABLE.test(state)) return "state has characters outside printable ASCII";
  if (code !== null && error !== null) return "both code and error are given";
  if (code === null && error === null) return "neither code nor error is given";
  if (code !== null && (code === "" || code.length > MAX_CODE || !PRINTABLE.test(code))) return "code is malformed";
  return { state };
}

const headers = (nonce) => ({
  "content-type": "text/html; charset=utf-8", "cache-control": "no-store", pragma: "no-cache",
  "referrer-policy": "no-referrer", "x-content-type-options": "nosniff", "x-frame-options": "DENY",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
});

export async function handler(event) {
  const method = event?.requestContext?.http?.method, path = event?.rawPath;
  if (path !== "/auth/callback" || method !== "GET") return { statusCode: 405, headers: { allow: "GET" }, body: "" };
  const raw = event.rawQueryString ?? "";
  let stateHash = "";
  if (raw !== "") {
    const cb = parse(raw);
    if (typeof cb === "string") {
      console.log(JSON.stringify({ level: "INFO", msg: "auth callback", step: "page", outcome: "error", reason: cb }));
      return { statusCode: 400, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }, body: "The sign-in link is not valid." };
    }
    stateHash = createHash("sha256").update(cb.state).digest("hex").slice(0, 12);
  }
  const nonce = nonce64(), attempt = nonce64();
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Finishing sign-in</title>
<style nonce="${nonce}">
html { color: #1b1b1b; background: #ffffff; font: 1.125rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 32rem; margin: 4rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.5rem; margin: 0 0 0.75rem; }
p { margin: 0 0 1rem; }
.hint { color: #404040; }
button { font: inherit; color: #ffffff; background: #0b57d0; border: 0; border-radius: 0.375rem; padding: 0.5rem 1.25rem; cursor: pointer; }
button:focus-visible { outline: 3px solid #1b1b1b; outline-offset: 2px; }
</style>
</head>
<body>
<main>
<h1 id="heading">Finishing your sign-in</h1>
<p id="message">Checking with your chat window…</p>
<p id="again-row" hidden><button type="button" id="again">Try again</button></p>
<noscript><p>This page needs JavaScript to finish your sign-in.</p></noscript>
<p class="hint" id="close-hint">You can close this window.</p>
</main>
<script nonce="${nonce}">
(function () {
  "use strict";
  var outcome = "pending";
  var chatOrigin = ${js(chatOrigin)};
  var source = "switchboard-auth";
  var attempt = ${js(attempt)};
  var outcomes = {"already_used":{"title":"Sign-in link already used","heading":"This sign-in link was already used","message":"Return to the chat to continue. If you aren't signed in there, ask to sign in again.","retry":false},"cancelled":{"title":"Sign-in cancelled","heading":"Sign-in cancelled","message":"You didn't sign in. Return to the chat to continue.","retry":false},"error":{"title":"Sign-in didn't work","heading":"We couldn't sign you in","message":"Return to the chat and ask to sign in again.","retry":false},"expired":{"title":"Sign-in link expired","heading":"This sign-in link has expired","message":"Return to the chat and ask to sign in again.","retry":false},"retry":{"title":"Please try again","heading":"We couldn't finish signing you in","message":"Something went wrong on our side. Please try again.","retry":true},"success":{"title":"Sign-in received","heading":"We received your sign-in","message":"Return to the chat to continue: the chat shows whether the sign-in worked.","retry":false}};
  var steps = {"checking":{"title":"Finishing sign-in","heading":"Finishing your sign-in","message":"Checking with your chat window…","retry":false},"incomplete":{"title":"Sign-in link incomplete","heading":"This sign-in link is incomplete","message":"Return to the chat and ask to sign in again.","retry":false},"mismatch":{"title":"Sign-in belongs to another chat","heading":"This sign-in link belongs to another chat","message":"We didn't use this link. Return to your chat and select Sign in again.","retry":false},"no_opener":{"title":"Sign-in not started from the chat","heading":"This sign-in didn't start from your chat","message":"We didn't use this link. To sign in, select Sign in in your chat window. If someone sent you this link, don't use it.","retry":false},"unconfirmed":{"title":"Sign-in not confirmed","heading":"We couldn't confirm this sign-in with your chat","message":"We didn't use this link: the window that opened it isn't your chat. Return to the chat and select Sign in there.","retry":false}};
  var key = "switchboard-auth-callback";
  var opener = window.opener;
  function show(t) {
    document.title = t.title;
    document.getElementById("heading").textContent = t.heading;
    document.getElementById("message").textContent = t.message;
    document.getElementById("again-row").hidden = !t.retry;
  }
  function forget() { try { window.sessionStorage.removeItem(key); } catch (e) {} }
  function finish(o) {
    if (!Object.prototype.hasOwnProperty.call(outcomes, o)) { o = "error"; }
    show(outcomes[o]);
    try {
      if (opener && !opener.closed) {
        opener.postMessage({ source: source, type: "outcome", attempt: attempt, outcome: o }, chatOrigin);
      }
    } catch (e) {}
    if (!outcomes[o].retry) { forget(); window.close(); }
  }
  document.getElementById("again").addEventListener("click", function () { window.location.reload(); });
  var params = window.location.search.slice(1);
  if (params) {
    try {
      window.sessionStorage.setItem(key, params);
      window.history.replaceState(null, "", window.location.pathname);
    } catch (e) {}
  }
  if (outcome !== "pending") { finish(outcome); return; }
  if (!params) {
    try { params = window.sessionStorage.getItem(key) || ""; } catch (e) {}
  }
  if (!params) { show(steps.incomplete); return; }
  
  
  
  if (!opener || opener.closed) { complete("cookie", steps.no_opener); return; }
  var state = new URLSearchParams(params).get("state");
  var timer = window.setTimeout(function () {
    window.removeEventListener("message", onMessage);
    complete("cookie", steps.unconfirmed);
  },  5000 );
  function onMessage(event) {
    if (event.origin !== chatOrigin || event.source !== opener) { return; }
    var m = event.data;
    if (!m || m.source !== source || m.type !== "confirm" || m.attempt !== attempt) { return; }
    window.clearTimeout(timer);
    window.removeEventListener("message", onMessage);
    if (typeof m.state !== "string" || m.state !== state) { forget(); show(steps.mismatch); return; }
    complete("opener", null);
  }
  
  function complete(binding, refused) {
    var retryable = function (status) { return status === 429 || status >= 500; };
    window.fetch(window.location.pathname, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: params + "&attempt=" + encodeURIComponent(attempt) + "&binding=" + binding,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error"
    }).then(function (r) {
      return r.json().then(function (j) { return j && j.attempt === attempt ? j.outcome : ""; }, function () { return ""; })
        .then(function (o) {
          
          if (r.status === 403 && o && refused) { forget(); show(refused); return; }
          finish(o || (retryable(r.status) ? "retry" : "error"));
        });
    }, function () { finish("retry"); });
  }
  window.addEventListener("message", onMessage);
  opener.postMessage({ source: source, type: "challenge", attempt: attempt }, chatOrigin);
})();
</script>
</body>
</html>
`;
  console.log(JSON.stringify({ level: "INFO", msg: "auth callback", step: "page", outcome: "pending", state_hash: stateHash, status: 200 }));
  return { statusCode: 200, headers: headers(nonce), body };
}
