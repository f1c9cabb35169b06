package authredirect

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"

	"github.com/switchboard-connect/switchboard/shared/authstate"
)

// ParticipantAuthenticator is the Amazon Connect call the endpoint makes (the SDK client's
// method, so that *connect.Client satisfies it).
type ParticipantAuthenticator interface {
	UpdateParticipantAuthentication(ctx context.Context, in *connect.UpdateParticipantAuthenticationInput, optFns ...func(*connect.Options)) (*connect.UpdateParticipantAuthenticationOutput, error)
}

var _ ParticipantAuthenticator = (*connect.Client)(nil)

// StateClaims accepts each state once (authstate.Store).
type StateClaims interface {
	// Claim holds state for a pending lease. It returns authstate.ErrAlreadyUsed for a state
	// used before and authstate.ErrPending for one another claim's lease holds. On any other
	// error it returns the attempted claim (the write may have happened), to be released.
	Claim(ctx context.Context, state string, lease time.Duration) (authstate.Claim, error)
	// Extend makes a claim hold the state for the store's full lifetime, once Connect answered.
	Extend(ctx context.Context, c authstate.Claim) (authstate.Claim, error)
	// Release gives up a claim so that the same state can be tried again. It returns nil when
	// the state is free afterwards, and authstate.ErrNotHeld when another claim holds it.
	Release(ctx context.Context, c authstate.Claim) error
}

var _ StateClaims = (*authstate.Store)(nil)

// releaseTimeout bounds the release of a claim after a failed claim or call, and its extension
// after Connect answered; they run even when the claim and the call used up the budget.
const releaseTimeout = time.Second

// leaseMargin is added to the call budget for a claim's pending lease: the lease must outlast
// the claim, the call and the release (releaseTimeout), with room for clock skew between
// function instances. A claim that is never extended (its write landed after the page said
// "Try again", or its release failed) holds the state only this long.
const leaseMargin = 2 * time.Second

// hashPrefixLen is how much of the state's SHA-256 (hex) the logs show: enough to find one
// sign-in among many, too little to be used for anything else.
const hashPrefixLen = 12

// Request is one request, whatever carried it.
type Request struct {
	Method string
	// Path is the request's path: StartPath, or the callback's (any other, empty included).
	Path string
	// RawQuery is the query string without '?', as the browser sent it.
	RawQuery string
	// ContentType and Body are those of a POST (the completion).
	ContentType string
	Body        string
	// BodyNotBase64 says the body was marked base64-encoded (API Gateway) and did not decode:
	// such a POST is refused as that, not as a body that lacks its fields.
	BodyNotBase64 bool
	// RequestID identifies the request in logs (API Gateway's request ID).
	RequestID string
	// OriginVerify is the request's OriginVerifyHeader.
	OriginVerify string
	// Origin is the request's Origin header (the start checks it).
	Origin string
	// Cookie is the request's Cookie header ("a=1; b=2").
	Cookie string
}

// StartPath is where the chat page sends the popup first (a form POST with the
// authentication URL): the function binds the state to this browser with a cookie and sends
// the popup on to the sign-in. It serves the completion when the popup comes back without
// window.opener (a sign-in page that sends Cross-Origin-Opener-Policy cuts it off).
const StartPath = "/auth/start"

// The binding of a completion, the body's "binding": how the page knows the chat started it.
const (
	bindingOpener = "opener" // the chat window confirmed the state (postMessage)
	bindingCookie = "cookie" // no confirming opener: the start cookie must name the state
	paramBinding  = "binding"
)

// BindingCookie is the cookie POST /auth/start sets: the hex SHA-256 of the state the chat page
// started. __Host-: only this host can set it, over HTTPS (or loopback), for every path.
const BindingCookie = "__Host-switchboard-auth"

// bindingCookieMaxAge is how long a started sign-in may take: Connect's authentication session.
const bindingCookieMaxAge = 15 * time.Minute

// Bounds of a start: the form body, and the authentication URL in it.
const (
	MaxStartBodyLen         = 8 * 1024
	MaxAuthenticationURLLen = 4096
	paramAuthenticationURL  = "authentication_url"
)

// MaxBodyLen bounds the body of a completion: the callback's query and the attempt.
const MaxBodyLen = MaxQueryLen + 256

// paramAttempt names the attempt identifier in a completion's body.
const paramAttempt = "attempt"

// reasonNotBase64 refuses a POST whose body API Gateway marked base64-encoded but does not decode.
const reasonNotBase64 = "body is not valid base64"

// formContentType is the only body a completion accepts (what the page's fetch sends).
const formContentType = "application/x-www-form-urlencoded"

// The "step" field of the log line of a request: the CDK metric filters (infra) count
// completions by it.
const (
	StepStart    = "start"    // POST /auth/start: the binding cookie, then the sign-in
	StepPage     = "page"     // GET: the page was served (or refused)
	StepComplete = "complete" // POST: the completion
	stepRefused  = "refused"  // another method, or a request around the CDN
)

// Handler is the redirect endpoint.
type Handler struct {
	cfg     Config
	connect ParticipantAuthenticator
	claims  StateClaims
	log     *slog.Logger
	now     func() time.Time
}

// NewHandler returns the endpoint for a validated configuration.
func NewHandler(cfg Config, c ParticipantAuthenticator, claims StateClaims, log *slog.Logger) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("auth redirect configuration: %w", err)
	}
	if c == nil || claims == nil || log == nil {
		return nil, errors.New("auth redirect: Connect client, state store and logger are required")
	}
	return &Handler{cfg: cfg, connect: c, claims: claims, log: log, now: time.Now}, nil
}

// decision is what one request came to, for the page and the log line.
type decision struct {
	step      string // StepPage, StepComplete or stepRefused
	outcome   Outcome
	status    int
	reason    string // why, in words that hold no request value
	attempt   string // the attempt identifier (ours, not a secret)
	stateHash string // prefix of the state's hash, once the state is valid
	oauthErr  string // the identity provider's error, if it is a standard one
	connect   string // Connect's error code, if the call failed
	binding   string // how a completion was bound to the chat (opener or cookie)
	released  *bool  // whether the state is free again after a failed claim or call
	extended  *bool  // whether the claim was extended after Connect answered
	err       error  // an internal error for the log (never for the page)
}

// Handle processes one request and returns the response. It never fails: every problem
// becomes a page (or, for a completion, an answer the page shows) and a log line.
//
// GET never calls Connect (RFC 9700 section 4.7, login CSRF): it serves the page that confirms,
// with the chat window that opened it, that this chat started the sign-in, and only then POSTs
// the callback back here; POST claims the state and calls UpdateParticipantAuthentication.
func (h *Handler) Handle(ctx context.Context, req Request) Page {
	start := h.now()
	var d decision
	var page Page
	var err error
	switch {
	case h.cfg.OriginSecret != "" && subtle.ConstantTimeCompare([]byte(req.OriginVerify), []byte(h.cfg.OriginSecret)) != 1:
		// Not through CloudFront (and its WAF): the API's own URL, called directly.
		d = decision{step: stepRefused, outcome: OutcomeError, status: http.StatusForbidden, reason: "request did not come through the CDN"}
		page, err = RenderPage(d.outcome, d.status, h.cfg.ChatOrigin)
	case req.Path == StartPath && req.Method == http.MethodPost:
		var location, hash string
		d, location, hash = h.start(req)
		if location != "" {
			page = renderStart(location, hash)
		} else {
			page, err = RenderPage(d.outcome, d.status, h.cfg.ChatOrigin)
		}
	case req.Path == StartPath:
		d = decision{step: stepRefused, outcome: OutcomeError, status: http.StatusMethodNotAllowed, reason: "method is not POST"}
		page, err = RenderPage(d.outcome, d.status, h.cfg.ChatOrigin)
		page.Header.Set("Allow", http.MethodPost)
	case req.Method == http.MethodGet:
		d = h.page(req)
		if d.outcome == OutcomePending {
			page, err = RenderHandshakePage(h.cfg.ChatOrigin, d.attempt)
		} else {
			page, err = RenderPage(d.outcome, d.status, h.cfg.ChatOrigin)
		}
	case req.Method == http.MethodPost:
		d = h.complete(ctx, req, start)
		page = renderCompletion(d.outcome, d.status, d.attempt)
	default:
		d = decision{step: stepRefused, outcome: OutcomeError, status: http.StatusMethodNotAllowed, reason: "method is not GET or POST"}
		page, err = RenderPage(d.outcome, d.status, h.cfg.ChatOrigin)
		page.Header.Set("Allow", "GET, POST")
	}
	if err != nil {
		d.err = errors.Join(d.err, err)
		page = fallbackPage()
	}
	h.logDecision(ctx, req, d, start)
	return page
}

// page decides GET: the handshake page for a valid callback, and for an empty query (a reload
// after the page moved the query into sessionStorage); a 400 page for anything else.
func (h *Handler) page(req Request) decision {
	d := decision{step: StepPage}
	if req.RawQuery != "" {
		cb, err := ParseCallback(req.RawQuery)
		if err != nil {
			d.outcome, d.status, d.reason = OutcomeError, http.StatusBadRequest, invalidReason(err)
			return d
		}
		d.stateHash = authstate.Hash(cb.State)[:hashPrefixLen]
		d.oauthErr = standardOAuthError(cb.Error)
		d.reason = "page served; completes after the chat window confirms"
	} else {
		d.reason = "page served without a query; resumes from the browser's session storage"
	}
	attempt, err := newNonce()
	if err != nil {
		d.outcome, d.status, d.reason, d.err = OutcomeRetry, http.StatusServiceUnavailable, "no attempt identifier", err
		return d
	}
	d.outcome, d.status, d.attempt = OutcomePending, http.StatusOK, attempt
	return d
}

// complete decides POST: the body is the callback's query plus the page's attempt identifier.
func (h *Handler) complete(ctx context.Context, req Request, start time.Time) decision {
	d := decision{step: StepComplete, outcome: OutcomeError, status: http.StatusBadRequest}
	if mt, _, err := mime.ParseMediaType(req.ContentType); err != nil || mt != formContentType {
		d.status, d.reason = http.StatusUnsupportedMediaType, "body is not "+formContentType
		return d
	}
	if len(req.Body) > MaxBodyLen {
		d.status, d.reason = http.StatusRequestEntityTooLarge, fmt.Sprintf("body is more than %d bytes", MaxBodyLen)
		return d
	}
	if req.BodyNotBase64 {
		d.reason = reasonNotBase64
		return d
	}
	attempt, err := parseAttempt(req.Body)
	if err != nil {
		d.reason = invalidReason(err)
		return d
	}
	d.attempt = attempt
	binding, err := parseBinding(req.Body)
	if err != nil {
		d.reason = invalidReason(err)
		return d
	}
	cb, err := ParseCallback(req.Body)
	if err != nil {
		d.reason = invalidReason(err)
		return d
	}
	hash := authstate.Hash(cb.State)
	d.stateHash, d.oauthErr = hash[:hashPrefixLen], standardOAuthError(cb.Error)
	d.binding = binding
	if binding == bindingCookie && !bindingCookieNames(req.Cookie, hash) {
		// The page had no opener to confirm with, and this browser did not start a sign-in with
		// this state from the chat (RFC 9700 section 4.7): someone else's link.
		d.status, d.reason = http.StatusForbidden, "no opener confirmed the state and no start cookie names it"
		return d
	}
	return h.decide(ctx, cb, d, start)
}

// parseAttempt returns the attempt identifier of a completion's body: once, 22 characters of
// base64url (what newNonce makes).
func parseAttempt(body string) (string, error) {
	q, err := url.ParseQuery(body)
	if err != nil {
		return "", invalid("body does not decode")
	}
	v := q[paramAttempt]
	switch {
	case len(v) == 0:
		return "", invalid("attempt is missing")
	case len(v) > 1:
		return "", invalid("attempt is given %d times", len(v))
	case !attemptPattern.MatchString(v[0]):
		return "", invalid("attempt is not 22 characters of base64url")
	}
	return v[0], nil
}

var attemptPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// parseBinding returns the binding of a completion's body: once, opener or cookie.
func parseBinding(body string) (string, error) {
	q, err := url.ParseQuery(body)
	if err != nil {
		return "", invalid("body does not decode")
	}
	v := q[paramBinding]
	if len(v) != 1 || (v[0] != bindingOpener && v[0] != bindingCookie) {
		return "", invalid("binding must be given once, as %s or %s", bindingOpener, bindingCookie)
	}
	return v[0], nil
}

// bindingCookieNames reports whether the Cookie header holds BindingCookie with the state's
// hash. Several cookies of that name (one set by each start) all count.
func bindingCookieNames(header, hash string) bool {
	cookies, err := http.ParseCookie(header)
	if err != nil {
		return false
	}
	for _, c := range cookies {
		if c.Name == BindingCookie && subtle.ConstantTimeCompare([]byte(c.Value), []byte(hash)) == 1 {
			return true
		}
	}
	return false
}

// start decides POST /auth/start: the form the chat page submits into the popup, with the
// authentication URL it got from GetAuthenticationUrl. Only a page on exactly the chat origin
// can send it (browsers set Origin on a cross-origin form POST, and pages cannot forge it), so
// the cookie it sets proves, when the popup comes back, that this browser's chat started the
// sign-in with this state. It returns the URL to send the popup to and the state's hash, or ""
// with the refusal.
func (h *Handler) start(req Request) (d decision, location, hash string) {
	d = decision{step: StepStart, outcome: OutcomeError, status: http.StatusForbidden}
	if req.Origin != h.cfg.ChatOrigin {
		d.reason = "Origin is not the chat origin"
		return d, "", ""
	}
	d.status = http.StatusBadRequest
	if mt, _, err := mime.ParseMediaType(req.ContentType); err != nil || mt != formContentType {
		d.status, d.reason = http.StatusUnsupportedMediaType, "body is not "+formContentType
		return d, "", ""
	}
	if len(req.Body) > MaxStartBodyLen {
		d.status, d.reason = http.StatusRequestEntityTooLarge, fmt.Sprintf("body is more than %d bytes", MaxStartBodyLen)
		return d, "", ""
	}
	if req.BodyNotBase64 {
		d.reason = reasonNotBase64
		return d, "", ""
	}
	q, err := url.ParseQuery(req.Body)
	if err != nil || len(q[paramAuthenticationURL]) != 1 {
		d.reason = paramAuthenticationURL + " must be given once"
		return d, "", ""
	}
	raw := q[paramAuthenticationURL][0]
	u, err := url.Parse(raw)
	switch {
	case len(raw) > MaxAuthenticationURLLen:
		d.reason = fmt.Sprintf("%s is longer than %d characters", paramAuthenticationURL, MaxAuthenticationURLLen)
		return d, "", ""
	case err != nil || u.User != nil || CheckChatOrigin(u.Scheme+"://"+u.Host) != nil:
		// Connect's authentication URL is Cognito's https URL (loopback http for local runs).
		d.reason = paramAuthenticationURL + " is not an https URL"
		return d, "", ""
	}
	states := u.Query()["state"]
	if len(states) != 1 || states[0] == "" || len(states[0]) > MaxStateLen || !printableASCII(states[0]) {
		d.reason = paramAuthenticationURL + " has no single valid state"
		return d, "", ""
	}
	d.outcome, d.status, d.reason = OutcomePending, http.StatusSeeOther, "binding cookie set; on to the sign-in"
	hash = authstate.Hash(states[0])
	d.stateHash = hash[:hashPrefixLen]
	return d, u.String(), hash
}

func invalidReason(err error) string {
	var ice *InvalidCallbackError
	if errors.As(err, &ice) {
		return ice.Reason
	}
	return "invalid callback"
}

func (h *Handler) decide(ctx context.Context, cb Callback, d decision, start time.Time) decision {
	// One budget for the claim and the call: the customer is waiting on a blank popup.
	ctx, cancel := h.cfg.CallBudget.Start(ctx, start)
	defer cancel()

	claim, err := h.claims.Claim(ctx, cb.State, h.cfg.CallBudget.Total+leaseMargin)
	switch {
	case errors.Is(err, authstate.ErrAlreadyUsed):
		d.outcome, d.status, d.reason = OutcomeAlreadyUsed, http.StatusConflict, "state was already used here"
		return d
	case errors.Is(err, authstate.ErrPending):
		// Another request is completing this state, or an earlier claim's write landed after
		// its page said "Try again": either way the lease ends within seconds.
		d.outcome, d.status, d.reason = OutcomeRetry, http.StatusServiceUnavailable, "state held by a pending claim"
		return d
	case err != nil:
		d.err = err
		if claim.ID == "" {
			// Nothing was attempted that could hold the state.
			d.outcome, d.status, d.reason = OutcomeRetry, http.StatusServiceUnavailable, "state store unavailable"
			return d
		}
		// The write may have happened with its reply lost: give the attempted claim back, or
		// the same link would be refused as used.
		h.release(ctx, claim, &d, "state store unavailable")
		return d
	}

	in := &connect.UpdateParticipantAuthenticationInput{
		InstanceId: aws.String(h.cfg.InstanceID),
		State:      aws.String(cb.State),
	}
	if cb.Code != "" {
		in.Code = aws.String(cb.Code)
	} else {
		in.Error = aws.String(cb.Error)
		if cb.ErrorDescription != "" {
			in.ErrorDescription = aws.String(cb.ErrorDescription)
		}
	}
	_, err = h.connect.UpdateParticipantAuthentication(ctx, in)
	var kind callKind
	if err != nil {
		kind, d.connect = classify(err)
	}
	if kind != callRetryable {
		// Connect answered for good: the state stays used for its full lifetime.
		h.extend(ctx, claim, &d)
	}
	if err == nil {
		switch {
		case cb.Code != "":
			d.outcome, d.status, d.reason = OutcomeSuccess, http.StatusOK, "Connect accepted the code"
		case cb.Error == "access_denied":
			d.outcome, d.status, d.reason = OutcomeCancelled, http.StatusOK, "sign-in cancelled; Connect was told"
		default:
			d.outcome, d.status, d.reason = OutcomeError, http.StatusOK, "sign-in failed; Connect was told"
		}
		return d
	}

	switch kind {
	case callConflict:
		d.outcome, d.status, d.reason = OutcomeAlreadyUsed, http.StatusConflict, "Connect says the authentication is already complete"
	case callExpired:
		d.outcome, d.status, d.reason = OutcomeExpired, http.StatusGone, "Connect no longer accepts the state"
	case callRetryable:
		h.release(ctx, claim, &d, "Connect unavailable within the budget")
	default:
		d.outcome, d.status, d.reason = OutcomeError, http.StatusBadGateway, "Connect refused the call"
	}
	return d
}

// release gives claim back after a failure a new attempt may fix (why says which), best effort
// and bounded even when the budget is used up, and decides the page: "try again" only when the
// state is free again; otherwise the same link would be refused as used, so the customer is asked
// to start the sign-in again from the chat.
func (h *Handler) release(ctx context.Context, claim authstate.Claim, d *decision, why string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	err := h.claims.Release(rctx, claim)
	released := err == nil
	d.released = &released
	d.status = http.StatusServiceUnavailable
	switch {
	case released:
		d.outcome, d.reason = OutcomeRetry, why+"; state released"
	case errors.Is(err, authstate.ErrNotHeld):
		d.outcome, d.reason = OutcomeError, why+"; state held by another claim"
	default:
		d.outcome, d.reason, d.err = OutcomeError, why+"; state could not be released", errors.Join(d.err, err)
	}
}

// extend makes the claim hold the state for its full lifetime once Connect answered, bounded
// like release. If it fails the claim still holds until its lease ends; a replay after that
// reaches Connect, which refuses a completed authentication (ConflictException).
func (h *Handler) extend(ctx context.Context, claim authstate.Claim, d *decision) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	_, err := h.claims.Extend(rctx, claim)
	extended := err == nil
	d.extended = &extended
	if err != nil {
		d.err = errors.Join(d.err, err)
	}
}

// callKind is how the endpoint reacts to a failed UpdateParticipantAuthentication.
type callKind int

const (
	callFailed    callKind = iota // a refusal a new attempt will not fix (AccessDenied, InvalidParameter, ...)
	callConflict                  // the authentication is already complete
	callExpired                   // the state is unknown or expired
	callRetryable                 // throttling, 5xx, timeout, network: the same link may work later
)

// classify sorts a Connect error and returns its error code (never its message, which might
// quote the request).
func classify(err error) (callKind, string) {
	var conflict *types.ConflictException
	var invalid *types.InvalidRequestException
	var api smithy.APIError
	var status interface{ HTTPStatusCode() int }
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	switch {
	case errors.As(err, &conflict):
		return callConflict, code
	case errors.As(err, &invalid):
		return callExpired, code
	}
	switch code {
	case "ThrottlingException", "TooManyRequestsException", "InternalServiceException", "ServiceUnavailableException":
		return callRetryable, code
	}
	if errors.As(err, &status) {
		s := status.HTTPStatusCode()
		if s == http.StatusTooManyRequests || s >= 500 {
			return callRetryable, code
		}
		if s >= 400 {
			return callFailed, code
		}
	}
	if code != "" {
		return callFailed, code
	}
	// No answer from Connect: a timeout, a dropped connection, the budget ran out.
	return callRetryable, "no response"
}

// standardOAuthError returns an RFC 6749 / OpenID Connect error code as it is, and "other" for
// anything else: the value comes from the query string and is logged only if it is one of these.
func standardOAuthError(e string) string {
	switch e {
	case "":
		return ""
	case "access_denied", "invalid_request", "unauthorized_client", "unsupported_response_type", "invalid_scope",
		"server_error", "temporarily_unavailable", "invalid_client", "invalid_grant", "login_required",
		"consent_required", "interaction_required", "account_selection_required":
		return e
	}
	return "other"
}

// logDecision writes the one line of a request: the outcome and a hash prefix of the state,
// never the code, the state or the error description.
func (h *Handler) logDecision(ctx context.Context, req Request, d decision, start time.Time) {
	attrs := []slog.Attr{
		slog.String("outcome", string(d.outcome)),
		slog.Int("status", d.status),
		slog.String("reason", d.reason),
		slog.Int64("duration_ms", h.now().Sub(start).Milliseconds()),
	}
	attrs = append(attrs, slog.String("step", d.step))
	if req.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", req.RequestID))
	}
	if d.attempt != "" {
		attrs = append(attrs, slog.String("attempt", d.attempt))
	}
	if d.stateHash != "" {
		attrs = append(attrs, slog.String("state_hash", d.stateHash))
	}
	if d.binding != "" {
		attrs = append(attrs, slog.String("binding", d.binding))
	}
	if d.oauthErr != "" {
		attrs = append(attrs, slog.String("oauth_error", d.oauthErr))
	}
	if d.connect != "" {
		attrs = append(attrs, slog.String("connect_error", d.connect))
	}
	if d.released != nil {
		attrs = append(attrs, slog.Bool("state_released", *d.released))
	}
	if d.extended != nil {
		attrs = append(attrs, slog.Bool("state_extended", *d.extended))
	}
	level := slog.LevelInfo
	if d.err != nil {
		attrs = append(attrs, slog.String("error", d.err.Error()))
		level = slog.LevelError
	} else if d.outcome == OutcomeRetry || d.status >= 500 {
		level = slog.LevelWarn
	}
	h.log.LogAttrs(ctx, level, "auth callback", attrs...)
}
