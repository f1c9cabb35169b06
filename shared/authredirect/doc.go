// Package authredirect is the OAuth redirect endpoint of chat customer authentication: Amazon
// Cognito sends the customer's browser to GET /auth/callback?code&state (or error&state), and
// this package validates the callback, accepts its state once, calls Amazon Connect's
// UpdateParticipantAuthentication and answers with a small page that tells the chat widget the
// outcome and closes the sign-in popup.
//
// The endpoint is on the public internet and the URL carries a one-time code, so it is built
// like any OAuth callback: strict validation before any call, a state accepted once, no
// internal detail on the page, a strict Content-Security-Policy, no caching, no referrer, and
// logs that carry the outcome and a hash prefix of the state but never the code or the state.
package authredirect
