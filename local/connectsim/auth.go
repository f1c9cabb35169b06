package connectsim

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/connectspec"
)

// Authentication session statuses.
const (
	AuthPending   = "PENDING"    // the flow reached Authenticate Customer
	AuthURLIssued = "URL_ISSUED" // GetAuthenticationUrl answered
	AuthSucceeded = "SUCCEEDED"
	AuthFailed    = "FAILED"
	AuthCancelled = "CANCELLED"
	AuthExpired   = "EXPIRED"
)

// authSession is a chat customer authentication session: the state of an
// "Authenticate Customer" flow block. Guarded by Sim.mu.
type authSession struct {
	id, contactID, instanceID string
	token                     string // participant connection token
	state                     string // OAuth state issued with the URL
	code                      string // code issued by /oauth2/authorize
	clientID, redirectURI     string
	status                    string
	err                       string
	created, expires          time.Time
}

func (a *authSession) terminal() bool {
	switch a.status {
	case AuthSucceeded, AuthFailed, AuthCancelled, AuthExpired:
		return true
	}
	return false
}

// ChatAuth is what a chat client holds once the flow of its contact has
// reached an Authenticate Customer block: the contact, the session ID of
// the authenticationInitiated event and the participant connection token.
type ChatAuth struct {
	ContactID        string `json:"contactId"`
	SessionID        string `json:"sessionId"`
	ParticipantToken string `json:"participantToken"`
}

// AuthSessionView is a snapshot of an authentication session.
type AuthSessionView struct {
	SessionID   string    `json:"sessionId"`
	ContactID   string    `json:"contactId"`
	InstanceID  string    `json:"instanceId"`
	Status      string    `json:"status"`
	Error       string    `json:"error,omitempty"`
	RedirectURI string    `json:"redirectUri,omitempty"`
	ClientID    string    `json:"clientId,omitempty"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires"`
}

// StartChatAuthentication creates a chat contact whose flow has reached an
// Authenticate Customer block, with its authentication session and the
// customer's participant connection token. An empty instanceID means
// DefaultInstanceID.
func (s *Sim) StartChatAuthentication(instanceID string) (ChatAuth, error) {
	if instanceID == "" {
		instanceID = DefaultInstanceID
	}
	in := s.world.instance(instanceID)
	if in == nil {
		return ChatAuth{}, fmt.Errorf("connectsim: unknown instance %q", instanceID)
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	now := s.clock.Now()
	id := newUUID()
	c := &contact{
		id: id, initialID: id, instanceID: in.ID, channel: ChannelChat, method: "API",
		status: StatusConnectedToSystem, attrs: map[string]string{}, initiated: now, connectedToSystem: now,
	}
	if len(in.ContactFlows) > 0 {
		c.flowID = in.ContactFlows[0].ID
	}
	s.addContactLocked(c)
	a := &authSession{
		id: newUUID(), contactID: id, instanceID: in.ID, token: randomToken(32),
		status: AuthPending, created: now, expires: now.Add(s.world.Auth.SessionTTL.D()),
	}
	s.sessions[a.id] = a
	s.pTokens[a.token] = id
	s.noteLocked(c, "AUTHENTICATION_INITIATED", "sessionId="+a.id)
	return ChatAuth{ContactID: id, SessionID: a.id, ParticipantToken: a.token}, nil
}

// AuthSessions returns every authentication session, oldest first.
func (s *Sim) AuthSessions() []AuthSessionView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AuthSessionView, 0, len(s.sessions))
	for _, a := range s.sessions {
		s.expireLocked(a)
		out = append(out, AuthSessionView{
			SessionID: a.id, ContactID: a.contactID, InstanceID: a.instanceID, Status: a.status,
			Error: a.err, RedirectURI: a.redirectURI, ClientID: a.clientID, Created: a.created, Expires: a.expires,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// expireLocked marks a session EXPIRED once its time is up.
func (s *Sim) expireLocked(a *authSession) {
	if !a.terminal() && !s.clock.Now().Before(a.expires) {
		a.status = AuthExpired
		a.err = "session expired"
		if c := s.contacts[a.contactID]; c != nil {
			s.noteLocked(c, "AUTHENTICATION_EXPIRED", "sessionId="+a.id)
		}
	}
}

// SetSignInOutcome sets what the hosted sign-in stand-in answers from now
// on: a code (zero value) or an error redirect.
func (s *Sim) SetSignInOutcome(o SignInOutcome) {
	s.mu.Lock()
	s.signIn = o
	s.mu.Unlock()
}

// cognitoClientFor returns the app client that accepts a redirect URI.
func (s *Sim) cognitoClientFor(redirect string) *CognitoClient {
	for i := range s.world.CognitoClients {
		if s.world.CognitoClients[i].allows(redirect) {
			return &s.world.CognitoClients[i]
		}
	}
	return nil
}

func (s *Sim) cognitoClient(id string) *CognitoClient {
	for i := range s.world.CognitoClients {
		if s.world.CognitoClients[i].ClientID == id {
			return &s.world.CognitoClients[i]
		}
	}
	return nil
}

// allows reports whether a redirect URI is registered for the client.
func (c *CognitoClient) allows(redirect string) bool {
	for _, r := range c.RedirectURIs {
		if r == redirect {
			return true
		}
	}
	if !c.AllowLoopbackAnyPort {
		return false
	}
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
	default:
		return false
	}
	return true
}

type getAuthenticationURLInput struct {
	SessionId   *string
	RedirectUri *string
}

// sessionForToken finds the session a participant token may act on.
func (s *Sim) sessionForTokenLocked(token, sessionID string) (*authSession, *apiError) {
	contactID, ok := s.pTokens[token]
	if !ok {
		return nil, newErr(errAccessDenied, "You do not have sufficient access to perform this action: the connection token is not valid")
	}
	a := s.sessions[sessionID]
	if a == nil || a.contactID != contactID {
		return nil, newErr(errValidation, "SessionId %s is not an authentication session of this participant", sessionID)
	}
	return a, nil
}

func (s *Sim) getAuthenticationURL(c *call) (any, *apiError) {
	var in getAuthenticationURLInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	var ck check
	ck.required("SessionId", in.SessionId != nil)
	ck.required("RedirectUri", in.RedirectUri != nil)
	ck.length("SessionId", in.SessionId, 36, 36)
	ck.length("RedirectUri", in.RedirectUri, 1, 1024)
	ck.length("ConnectionToken", strPtr(c.r.Header.Get("X-Amz-Bearer")), 1, 1000)
	if e := ck.errAs(errValidation); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	a, e := s.sessionForTokenLocked(c.r.Header.Get("X-Amz-Bearer"), *in.SessionId)
	if e != nil {
		return nil, e
	}
	s.expireLocked(a)
	if a.terminal() {
		return nil, newErr(errValidation, "Authentication session %s is %s", a.id, a.status)
	}
	if window := s.world.Auth.URLWindow.D(); s.clock.Now().Sub(a.created) > window {
		return nil, newErr(errValidation, "GetAuthenticationUrl must be called within %v of the authenticationInitiated event", window)
	}
	client := s.cognitoClientFor(*in.RedirectUri)
	if client == nil {
		return nil, newErr(errValidation, "RedirectUri is not a registered redirect URI of the authentication profile's Cognito app client")
	}
	if a.state != "" {
		delete(s.states, a.state)
	}
	a.state = randomToken(24)
	a.code = ""
	a.clientID = client.ClientID
	a.redirectURI = *in.RedirectUri
	a.status = AuthURLIssued
	s.states[a.state] = a
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", client.ClientID)
	q.Set("redirect_uri", *in.RedirectUri)
	q.Set("state", a.state)
	q.Set("scope", "openid")
	if ct := s.contacts[a.contactID]; ct != nil {
		s.noteLocked(ct, OpGetAuthenticationURL, "sessionId="+a.id)
	}
	return map[string]string{"AuthenticationUrl": s.publicBase(c.r) + "/oauth2/authorize?" + q.Encode()}, nil
}

func strPtr(s string) *string { return &s }

// publicBase is the base URL browsers reach the Sim on.
func (s *Sim) publicBase(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Sim) cancelParticipantAuthentication(c *call) (any, *apiError) {
	var in struct{ SessionId *string }
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	var ck check
	ck.required("SessionId", in.SessionId != nil)
	ck.length("SessionId", in.SessionId, 36, 36)
	if e := ck.errAs(errValidation); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	a, e := s.sessionForTokenLocked(c.r.Header.Get("X-Amz-Bearer"), *in.SessionId)
	if e != nil {
		return nil, e
	}
	s.expireLocked(a)
	switch a.status {
	case AuthCancelled:
		return struct{}{}, nil // cancelling twice is harmless
	case AuthSucceeded, AuthFailed, AuthExpired:
		return nil, newErr(errValidation, "Authentication session %s is already %s", a.id, a.status)
	}
	a.status = AuthCancelled
	a.err = "cancelled by the participant"
	if ct := s.contacts[a.contactID]; ct != nil {
		s.noteLocked(ct, OpCancelParticipantAuthentication, "sessionId="+a.id)
	}
	return struct{}{}, nil
}

// serveAuthorize stands in for Cognito's hosted UI /oauth2/authorize: it
// signs the user in at once and redirects with a code, or with the error
// set by SetSignInOutcome. Requests it cannot redirect safely (unknown
// client, unregistered redirect URI) get an error page, as Cognito does.
func (s *Sim) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	client := s.cognitoClient(q.Get("client_id"))
	if client == nil {
		authorizePage(w, http.StatusBadRequest, "invalid_request", "client_id is missing or not an app client of this user pool")
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" || !client.allows(redirect) {
		authorizePage(w, http.StatusBadRequest, "redirect_mismatch", "redirect_uri is not registered for the app client")
		return
	}
	target, _ := url.Parse(redirect)
	out := target.Query()
	state := q.Get("state")
	if state != "" {
		out.Set("state", state)
	}
	s.mu.Lock()
	outcome := s.signIn
	switch {
	case q.Get("response_type") != "code":
		out.Set("error", "unsupported_response_type")
		out.Set("error_description", "response_type must be code")
	case outcome.Error != "":
		out.Set("error", outcome.Error)
		if outcome.ErrorDescription != "" {
			out.Set("error_description", outcome.ErrorDescription)
		}
	default:
		code := newUUID()
		out.Set("code", code)
		if a := s.states[state]; a != nil && !a.terminal() {
			a.code = code
			if ct := s.contacts[a.contactID]; ct != nil {
				s.noteLocked(ct, "SIGNED_IN", "sessionId="+a.id)
			}
		}
	}
	s.mu.Unlock()
	target.RawQuery = out.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func authorizePage(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>Sign-in error</title><h1>%s</h1><p>%s</p>\n", html.EscapeString(code), html.EscapeString(desc))
}

type updateParticipantAuthenticationInput struct {
	State            *string
	InstanceId       *string
	Code             *string
	Error            *string
	ErrorDescription *string
}

func (s *Sim) updateParticipantAuthentication(c *call) (any, *apiError) {
	var in updateParticipantAuthenticationInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	var ck check
	ck.required("State", in.State != nil)
	ck.required("InstanceId", in.InstanceId != nil)
	ck.length("State", in.State, 1, 1000)
	ck.length("InstanceId", in.InstanceId, 1, connectspec.MaxInstanceIDLength)
	ck.length("Code", in.Code, 1, 2048)
	ck.length("Error", in.Error, 1, 2048)
	ck.pattern("Error", in.Error, noQuoteBackslash)
	ck.length("ErrorDescription", in.ErrorDescription, 1, 2048)
	ck.pattern("ErrorDescription", in.ErrorDescription, noQuoteBackslash)
	if e := ck.err(); e != nil {
		return nil, e
	}
	if (in.Code == nil) == (in.Error == nil) {
		return nil, newErr(errInvalidRequest, "Exactly one of Code or Error must be given")
	}
	if in.ErrorDescription != nil && in.Error == nil {
		return nil, newErr(errInvalidRequest, "ErrorDescription is only accepted with Error")
	}
	if s.world.instance(*in.InstanceId) == nil {
		// The operation's error list has no ResourceNotFoundException.
		return nil, newErr(errInvalidParameter, "Instance %s not found", *in.InstanceId)
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	a := s.states[*in.State]
	if a == nil || a.instanceID != *in.InstanceId {
		return nil, newErr(errInvalidRequest, "The state is not valid: no authentication session of this instance issued it")
	}
	s.expireLocked(a)
	switch a.status {
	case AuthExpired:
		return nil, newErr(errInvalidRequest, "The authentication session has expired")
	case AuthSucceeded, AuthFailed, AuthCancelled:
		return nil, newErr(errConflict, "The authentication session is already complete (%s)", a.status)
	}
	detail := "sessionId=" + a.id
	switch {
	case in.Code != nil && a.code != "" && *in.Code == a.code:
		a.status = AuthSucceeded
	case in.Code != nil:
		a.status = AuthFailed
		a.err = "code does not match the code issued by the sign-in"
		if a.code == "" {
			a.err = "no code was issued for this state"
		}
	default:
		a.status = AuthFailed
		if *in.Error == "access_denied" {
			a.status = AuthCancelled
		}
		a.err = *in.Error
		if in.ErrorDescription != nil {
			a.err += ": " + *in.ErrorDescription
		}
	}
	if ct := s.contacts[a.contactID]; ct != nil {
		s.noteLocked(ct, OpUpdateParticipantAuthentication, detail+" status="+a.status)
	}
	return struct{}{}, nil
}
