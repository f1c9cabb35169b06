package devstack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// Payload limits of the Lambda Invoke API: 6 MB for a synchronous invocation, 256 KB for an
// asynchronous one (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
const (
	maxSyncPayload  = 6 * 1024 * 1024
	maxAsyncPayload = 256 * 1024
)

// asyncRetryDelays are Lambda's for an asynchronous invocation that fails: "If the function
// returns an error, Lambda attempts to run it two more times, with a one-minute wait between the
// first two attempts, and two minutes between the second and third attempts"
// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html). They run on the
// simulated clock: at -time-scale 60 a retry comes one and then two real seconds later. The
// dialer's EventInvokeConfig keeps Lambda's two retries (infra/dialer.go, MaximumRetryAttempts 2).
// Its maximum event age (2 h) is not modelled: three attempts end within minutes.
var asyncRetryDelays = []time.Duration{time.Minute, 2 * time.Minute}

// Functions runs the stack's functions as Lambda would: synchronously for the Invoke API, and
// asynchronously with Lambda's retries for the event bus and the scheduler.
type Functions struct {
	clock   connectsim.Clock
	log     *slog.Logger
	region  string
	account string
	fns     map[string]lambda.Handler

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	stats  map[string]*FunctionStats
	closed bool // no asynchronous invocation starts once set
	// deadLetters are the asynchronous events given up after every retry, oldest first: the
	// on-failure destination of every function (GET /_devstack/dead-letters).
	deadLetters []InvocationRecord
}

// FunctionStats counts one function's invocations.
type FunctionStats struct {
	Invocations int `json:"invocations"`
	// Errors counts failed invocations, retries included.
	Errors int `json:"errors"`
	// Failed counts asynchronous events given up after every retry: each is in the dead-letter
	// list (a deployed dialer keeps them in DialerOnFailureQueue).
	Failed int `json:"failed"`
	// Dropped counts asynchronous events the stack abandoned because it was stopping (before
	// their first attempt or between two): each is logged as an error with its event.
	Dropped int `json:"dropped"`
}

func newFunctions(clock connectsim.Clock, log *slog.Logger, region, account string) *Functions {
	ctx, cancel := context.WithCancel(context.Background())
	return &Functions{clock: clock, log: log, region: region, account: account, fns: map[string]lambda.Handler{},
		ctx: ctx, cancel: cancel, stats: map[string]*FunctionStats{}}
}

func (f *Functions) add(name string, h lambda.Handler) {
	f.fns[name] = h
	f.stats[name] = &FunctionStats{}
}

// Names lists the functions, sorted.
func (f *Functions) Names() []string {
	var out []string
	for n := range f.fns {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Stats returns a copy of the counters.
func (f *Functions) Stats() map[string]FunctionStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]FunctionStats{}
	for n, s := range f.stats {
		out[n] = *s
	}
	return out
}

func (f *Functions) arn(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", f.region, f.account, name)
}

// resolve accepts a function's name, its ARN, or the partial ARN account:function:name, as the
// Invoke API does.
func (f *Functions) resolve(ref string) (string, bool) {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		name = strings.TrimPrefix(ref, f.arn(""))
	} else if p := strings.Split(ref, ":"); len(p) == 3 && p[0] == f.account && p[1] == "function" {
		name = p[2]
	}
	_, ok := f.fns[name]
	return name, ok
}

// invoke runs one invocation. A function error comes back as err; the error of a missing
// function is errNoFunction.
func (f *Functions) invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	return f.invokeAs(ctx, name, newUUID(), payload)
}

// invokeAs runs one invocation with the given request ID: an asynchronous event keeps one
// through its retries, as its invocation record names one requestId for all its attempts.
func (f *Functions) invokeAs(ctx context.Context, name, requestID string, payload []byte) ([]byte, error) {
	h, ok := f.fns[name]
	if !ok {
		return nil, errNoFunction
	}
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: f.arn(name)})
	out, err := safeInvoke(ctx, h, payload)
	f.mu.Lock()
	f.stats[name].Invocations++
	if err != nil {
		f.stats[name].Errors++
	}
	f.mu.Unlock()
	return out, err
}

var errNoFunction = errors.New("no such function")

// safeInvoke turns a panic into a function error, as the Lambda runtime reports one.
func safeInvoke(ctx context.Context, h lambda.Handler, payload []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return h.Invoke(ctx, payload)
}

// InvokeAsync queues an asynchronous invocation (the event bus's and the scheduler's), as Lambda
// does for a function with an on-failure destination: on a function error it is retried after
// one and then two simulated minutes, and an event whose three attempts all failed goes to the
// dead-letter list as Lambda's invocation record. Every event ends one of three ways: handled,
// in the dead-letter list, or (only while the stack stops) dropped with an error line and
// counted; none disappears without a trace.
func (f *Functions) InvokeAsync(name string, payload []byte, what string) {
	requestID := newUUID()
	f.mu.Lock()
	if _, ok := f.fns[name]; !ok {
		f.mu.Unlock()
		f.log.Error("asynchronous invocation of a function devstack does not have", "function", name, "event", what)
		return
	}
	if f.closed {
		f.stats[name].Dropped++
		f.mu.Unlock()
		f.log.Error("asynchronous invocation dropped: the stack is stopping", "function", name, "event", what, "request_id", requestID)
		return
	}
	f.wg.Add(1)
	f.mu.Unlock()
	go func() {
		defer f.wg.Done()
		for attempt := 1; ; attempt++ {
			if f.ctx.Err() != nil {
				f.drop(name, what, requestID, attempt-1)
				return
			}
			_, err := f.invokeAs(f.ctx, name, requestID, payload)
			if err == nil {
				return
			}
			if f.ctx.Err() != nil {
				f.drop(name, what, requestID, attempt)
				return
			}
			if attempt > len(asyncRetryDelays) {
				rec := f.newInvocationRecord(name, requestID, payload, attempt, err)
				f.mu.Lock()
				f.stats[name].Failed++
				f.deadLetters = append(f.deadLetters, rec)
				f.mu.Unlock()
				f.log.Error("asynchronous invocation failed after every retry: kept in the dead-letter list", "function", name, "event", what,
					"request_id", requestID, "attempts", attempt, "error", err)
				return
			}
			f.log.Warn("asynchronous invocation failed, retrying", "function", name, "event", what, "request_id", requestID, "attempt", attempt, "error", err)
			if sleepSim(f.ctx, f.clock, asyncRetryDelays[attempt-1]) != nil {
				f.drop(name, what, requestID, attempt)
				return
			}
		}
	}()
}

// drop counts and logs an asynchronous event the stopping stack abandons after attempts.
func (f *Functions) drop(name, what, requestID string, attempts int) {
	f.mu.Lock()
	f.stats[name].Dropped++
	f.mu.Unlock()
	f.log.Error("asynchronous invocation dropped: the stack is stopping", "function", name, "event", what, "request_id", requestID, "attempts", attempts)
}

// close stops retries and waits for the invocations in progress.
func (f *Functions) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
}

// ServeHTTP is the Lambda Invoke API: POST /2015-03-31/functions/{name}/invocations
// (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), with the invocation types
// RequestResponse (200 and the function's response), Event (202, run in the background with
// Lambda's retries) and DryRun (204). A function error answers 200 with X-Amz-Function-Error
// and the runtime's {"errorMessage","errorType"} body.
func (f *Functions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == deadLettersPath || strings.HasPrefix(r.URL.Path, deadLettersPath+"/") {
		f.serveDeadLetters(w, r)
		return
	}
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) || !strings.HasSuffix(r.URL.Path, suffix) {
		lambdaError(w, http.StatusNotFound, "UnknownOperationException", "devstack serves only Invoke: POST /2015-03-31/functions/{name}/invocations")
		return
	}
	ref := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix), suffix)
	if len(ref) == 0 || len(ref) > 170 {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "FunctionName must be 1 to 170 characters")
		return
	}
	name, ok := f.resolve(ref)
	if q := r.URL.Query().Get("Qualifier"); ok && q != "" && q != "$LATEST" {
		ok = false
		name += ":" + q
	}
	if !ok {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf("Function not found: %s (devstack has %s)", f.arn(name), strings.Join(f.Names(), ", ")))
		return
	}
	kind := r.Header.Get("X-Amz-Invocation-Type")
	limit := maxSyncPayload
	switch kind {
	case "", "RequestResponse":
	case "Event":
		limit = maxAsyncPayload
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("X-Amz-Invocation-Type %q: want RequestResponse, Event or DryRun", safetext.Prefix(kind, 40)))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read the request body")
		return
	}
	if len(payload) > limit {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("Request must be smaller than %d bytes for the %s invocation type", limit, orDefault(kind, "RequestResponse")))
		return
	}
	if len(payload) > 0 && !json.Valid(payload) {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}
	if kind == "Event" {
		f.InvokeAsync(name, payload, "Invoke API")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	out, err := f.invoke(r.Context(), name, payload)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		out = errorDocument(err)
	}
	_, _ = w.Write(out)
}

// errorType names an error as the Go runtime does (its type name, without the pointer).
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// lambdaError writes a REST-JSON error: the code in X-Amzn-Errortype, the message in the body.
func lambdaError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// sleepSim waits d of simulated time, or until ctx ends.
func sleepSim(ctx context.Context, c connectsim.Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	done := make(chan struct{})
	t := c.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
