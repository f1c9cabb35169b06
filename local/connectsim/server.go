package connectsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type opKind int

const (
	kindConnect     opKind = iota // SigV4-signed Amazon Connect operation
	kindParticipant               // Connect Participant Service, X-Amz-Bearer token
)

// call is one API request on its way through the pipeline.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	op     string
	params map[string]string
	body   []byte
}

// decode reads the JSON body into v. An empty body is an empty object.
func (c *call) decode(v any) *apiError {
	b := bytes.TrimSpace(c.body)
	if len(b) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return newErr(errSerialization, "Cannot deserialize member %q: expected %s", te.Field, te.Type.String())
		}
		return newErr(errSerialization, "Request body is not valid JSON: %v", err)
	}
	return nil
}

type handler func(s *Sim, c *call) (any, *apiError)

type route struct {
	method string
	segs   []string // literal segments, or "{Name}" for a path parameter
	op     string
	kind   opKind
	h      handler
}

var routes = []route{
	{"POST", []string{"contact", "attributes"}, OpUpdateContactAttributes, kindConnect, (*Sim).updateContactAttributes},
	{"GET", []string{"contact", "attributes", "{InstanceId}", "{InitialContactId}"}, OpGetContactAttributes, kindConnect, (*Sim).getContactAttributes},
	{"GET", []string{"contacts", "{InstanceId}", "{ContactId}"}, OpDescribeContact, kindConnect, (*Sim).describeContact},
	{"PUT", []string{"contact", "outbound-voice"}, OpStartOutboundVoiceContact, kindConnect, (*Sim).startOutboundVoiceContact},
	{"POST", []string{"contact", "stop"}, OpStopContact, kindConnect, (*Sim).stopContact},
	{"POST", []string{"metrics", "current", "{InstanceId}"}, OpGetCurrentMetricData, kindConnect, (*Sim).getCurrentMetricData},
	{"POST", []string{"contact", "update-participant-authentication"}, OpUpdateParticipantAuthentication, kindConnect, (*Sim).updateParticipantAuthentication},
	{"POST", []string{"participant", "authentication-url"}, OpGetAuthenticationURL, kindParticipant, (*Sim).getAuthenticationURL},
	{"POST", []string{"participant", "cancel-authentication"}, OpCancelParticipantAuthentication, kindParticipant, (*Sim).cancelParticipantAuthentication},
	// Users, hierarchy, profiles (users.go, hierarchy.go).
	{"PUT", []string{"users", "{InstanceId}"}, OpCreateUser, kindConnect, (*Sim).createUser},
	{"GET", []string{"users", "{InstanceId}", "{UserId}"}, OpDescribeUser, kindConnect, (*Sim).describeUser},
	{"GET", []string{"users-summary", "{InstanceId}"}, OpListUsers, kindConnect, (*Sim).listUsers},
	{"DELETE", []string{"users", "{InstanceId}", "{UserId}"}, OpDeleteUser, kindConnect, (*Sim).deleteUser},
	{"POST", []string{"users", "{InstanceId}", "{UserId}", "identity-info"}, OpUpdateUserIdentityInfo, kindConnect, (*Sim).updateUserIdentityInfo},
	{"POST", []string{"users", "{InstanceId}", "{UserId}", "phone-config"}, OpUpdateUserPhoneConfig, kindConnect, (*Sim).updateUserPhoneConfig},
	{"POST", []string{"users", "{InstanceId}", "{UserId}", "routing-profile"}, OpUpdateUserRoutingProfile, kindConnect, (*Sim).updateUserRoutingProfile},
	{"POST", []string{"users", "{InstanceId}", "{UserId}", "security-profiles"}, OpUpdateUserSecurityProfiles, kindConnect, (*Sim).updateUserSecurityProfiles},
	{"POST", []string{"users", "{InstanceId}", "{UserId}", "hierarchy"}, OpUpdateUserHierarchy, kindConnect, (*Sim).updateUserHierarchy},
	{"GET", []string{"user-hierarchy-structure", "{InstanceId}"}, OpDescribeUserHierarchyStructure, kindConnect, (*Sim).describeUserHierarchyStructure},
	{"GET", []string{"user-hierarchy-groups", "{InstanceId}", "{HierarchyGroupId}"}, OpDescribeUserHierarchyGroup, kindConnect, (*Sim).describeUserHierarchyGroup},
	{"GET", []string{"user-hierarchy-groups-summary", "{InstanceId}"}, OpListUserHierarchyGroups, kindConnect, (*Sim).listUserHierarchyGroups},
	{"GET", []string{"routing-profiles-summary", "{InstanceId}"}, OpListRoutingProfiles, kindConnect, (*Sim).listRoutingProfiles},
	{"GET", []string{"security-profiles-summary", "{InstanceId}"}, OpListSecurityProfiles, kindConnect, (*Sim).listSecurityProfiles},
	// Historical metrics, federation (metricdata.go, federation.go).
	{"POST", []string{"metrics", "historical", "{InstanceId}"}, OpGetMetricData, kindConnect, (*Sim).getMetricData},
	{"GET", []string{"user", "federate", "{InstanceId}"}, OpGetFederationToken, kindConnect, (*Sim).getFederationToken},
	// Chat attachments (attachments.go).
	{"POST", []string{"participant", "start-attachment-upload"}, OpStartAttachmentUpload, kindParticipant, (*Sim).startAttachmentUpload},
	{"POST", []string{"participant", "complete-attachment-upload"}, OpCompleteAttachmentUpload, kindParticipant, (*Sim).completeAttachmentUpload},
	{"POST", []string{"participant", "attachment"}, OpGetAttachment, kindParticipant, (*Sim).getAttachment},
}

// match finds the route of a request. pathOK reports whether the path
// exists for some method.
func match(method string, segs []string) (rt *route, params map[string]string, pathOK bool) {
	for i := range routes {
		r := &routes[i]
		if len(r.segs) != len(segs) {
			continue
		}
		p := map[string]string{}
		ok := true
		for j, s := range r.segs {
			if strings.HasPrefix(s, "{") {
				if segs[j] == "" {
					ok = false
					break
				}
				p[strings.Trim(s, "{}")] = segs[j]
			} else if s != segs[j] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		pathOK = true
		if r.method == method {
			return r, p, true
		}
	}
	return nil, nil, pathOK
}

func splitPath(r *http.Request) ([]string, bool) {
	raw := strings.Trim(r.URL.EscapedPath(), "/")
	parts := strings.Split(raw, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

// ServeHTTP routes Amazon Connect operations, Participant Service
// operations, the Cognito hosted sign-in stand-in (/oauth2/authorize) and
// the admin API (/_connectsim/).
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", newUUID())
	switch {
	case strings.HasPrefix(r.URL.Path, adminPrefix):
		s.serveAdmin(w, r)
		return
	case r.URL.Path == "/oauth2/authorize":
		s.serveAuthorize(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/attachment-store/"):
		s.serveAttachmentStore(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/participant/") && r.Header.Get("Origin") != "":
		// The Participant Service is called from chat widgets in browsers, so it speaks CORS
		// (the Connect API, signed with account credentials, does not).
		if allowCORS(w, r, "POST", "Content-Type, X-Amz-Bearer, X-Amz-User-Agent, X-Amz-Date, Amz-Sdk-Invocation-Id, Amz-Sdk-Request", "X-Amzn-RequestId, X-Amzn-ErrorType") {
			return
		}
	}
	segs, ok := splitPath(r)
	var rt *route
	var params map[string]string
	if ok {
		rt, params, _ = match(r.Method, segs)
	}
	if rt == nil {
		s.mu.Lock()
		s.count("Unknown", errUnknownOperation)
		s.mu.Unlock()
		writeAPIError(w, newErr(errUnknownOperation, "No operation matches %s %s", r.Method, r.URL.Path))
		return
	}
	s.serveOp(w, r, rt, params)
}

// maxBody bounds request bodies; Connect's own limit is far lower for the
// emulated operations.
const maxBody = 1 << 20

func (s *Sim) serveOp(w http.ResponseWriter, r *http.Request, rt *route, params map[string]string) {
	s.mu.Lock()
	s.stats.inFlight++
	if s.stats.inFlight > s.stats.maxInFlight {
		s.stats.maxInFlight = s.stats.inFlight
	}
	s.mu.Unlock()
	outcome := "ok"
	defer func() {
		s.mu.Lock()
		s.stats.inFlight--
		s.count(rt.op, outcome)
		s.mu.Unlock()
	}()
	fail := func(e *apiError) {
		outcome = e.Type
		writeAPIError(w, e)
	}
	s.wait(r.Context(), s.opts.Latency.Sample(rt.op))

	// Front door: authentication.
	if rt.kind == kindConnect {
		if e := s.checkSigV4(r); e != nil {
			fail(e)
			return
		}
	} else if r.Header.Get("X-Amz-Bearer") == "" {
		fail(newErr(errAccessDenied, "You do not have sufficient access to perform this action: the X-Amz-Bearer connection token is missing"))
		return
	}

	// Injected faults. One of an "-after" kind acts once the operation has run.
	s.mu.Lock()
	f, hit := s.pickFaultLocked(rt.op)
	s.mu.Unlock()
	if hit && f.after() {
		out, e := s.runOp(w, r, rt, params)
		loseAnswer(w, r, f, rt.kind == kindParticipant, out, e, &outcome)
		s.log.Info("connectsim: answer lost (injected fault)", "operation", rt.op, "fault", f.Kind, "outcome", outcome)
		return
	}
	if hit {
		if f.Kind == FaultDrop {
			outcome = outcomeDropped
			dropConnection(w)
			return
		}
		if done, o := applyFault(w, r, f, rt.kind == kindParticipant); done {
			outcome = o
			return
		}
	}

	out, e := s.runOp(w, r, rt, params)
	if e != nil {
		fail(e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// runOp applies the request-rate quota, reads the body and runs the operation's handler.
func (s *Sim) runOp(w http.ResponseWriter, r *http.Request, rt *route, params map[string]string) (any, *apiError) {
	if !s.opts.DisableThrottling {
		if ok, typ := s.allow(rt.op); !ok {
			return nil, newErr(typ, "Rate exceeded")
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, newErr(errInvalidRequest, "Cannot read the request body: %v", err)
	}
	if len(body) > maxBody {
		return nil, newErr(errInvalidRequest, "The request body is too large")
	}
	return rt.h(s, &call{w: w, r: r, op: rt.op, params: params, body: body})
}

// allowCORS lets a browser page of any origin call: it answers a preflight (and reports that it
// did) or adds the headers to the answer to come.
func allowCORS(w http.ResponseWriter, r *http.Request, methods, headers, expose string) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", expose)
	if r.Method != http.MethodOptions {
		return false
	}
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", headers)
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		v = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(v)
}

// checkSigV4 checks that a request carries a SigV4 Authorization header
// scoped to the world's Region and the connect service. The signature
// itself is not verified: connectsim accepts any credentials.
func (s *Sim) checkSigV4(r *http.Request) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		if r.URL.Query().Get("X-Amz-Signature") != "" {
			return nil // presigned URL
		}
		return newErr(errMissingAuth, "Missing Authentication Token")
	}
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(h, algo) {
		return newErr(errIncompleteSig, "Authorization header requires the AWS4-HMAC-SHA256 algorithm")
	}
	var cred string
	var signed, sig bool
	for _, part := range strings.Split(strings.TrimPrefix(h, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v != ""
		case "Signature":
			sig = v != ""
		}
	}
	if cred == "" || !signed || !sig {
		return newErr(errIncompleteSig, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return newErr(errIncompleteSig, "Credential must have the form <access key>/<date>/<region>/<service>/aws4_request")
	}
	if scope[2] != s.world.Region {
		return newErr(errInvalidSignature, "Credential should be scoped to a valid region, not '%s'. This connectsim serves '%s'.", scope[2], s.world.Region)
	}
	if scope[3] != "connect" {
		return newErr(errInvalidSignature, "Credential should be scoped to correct service: 'connect'.")
	}
	return nil
}

// allow takes a token from the operation's bucket, or reports the error type to answer.
func (s *Sim) allow(op string) (bool, string) {
	s.mu.Lock()
	b := s.buckets[op]
	if b == nil {
		def := knownOps[op]
		rl, ok := s.world.Throttle[op]
		if !ok {
			rl = def
		}
		if rl.ErrorType == "" {
			rl.ErrorType = def.ErrorType
		}
		b = newBucket(rl, s.throttleNow())
		s.buckets[op] = b
	}
	s.mu.Unlock()
	return b.allow(s.throttleNow()), b.limit.ErrorType
}

// throttleNow is the time of the quotas' token buckets: Options.WallClock when set, else the
// world's throttle clock.
func (s *Sim) throttleNow() time.Time {
	if s.opts.WallClock == nil && s.world.ThrottleClock == ThrottleSimulated {
		return s.clock.Now()
	}
	return s.wall()
}

// wait lets d of simulation time pass (the modelled latency of a request), or until ctx ends.
func (s *Sim) wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	done := make(chan struct{})
	t := s.clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
	case <-ctx.Done():
		t.Stop()
	}
}
