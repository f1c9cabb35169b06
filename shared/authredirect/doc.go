// Package authredirect is the OAuth redirect endpoint of chat customer authentication: Amazon
// Cognito sends the customer's browser to GET /auth/callback?code&state (or error&state). That
// GET never calls Connect: it validates the callback and serves a page that confirms, with the
// chat window that opened the popup (window.opener on exactly the configured chat origin), that
// this chat started a sign-in with this state, and only then POSTs the callback back. Without
// such an opener (a sign-in page's Cross-Origin-Opener-Policy cuts it off) the POST must carry
// the cookie that POST /auth/start set when the chat page sent the popup to the sign-in. The POST
// accepts the state once, calls Amazon Connect's UpdateParticipantAuthentication and answers
// with the outcome, which the page shows, posts to the chat widget, and closes the popup on.
//
// The endpoint is on the public internet and the URL carries a one-time code, so it is built
// like any OAuth callback: strict validation before any call, a binding of the completion to the
// chat that started it (RFC 9700 section 4.7), a state accepted once, no internal detail on the
// page, a strict Content-Security-Policy, no caching, no referrer, and logs that carry the
// outcome and a hash prefix of the state but never the code or the state.
package authredirect
