package authredirect

import (
	"context"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
)

// HandleAPIGateway answers GET /auth/callback from an API Gateway HTTP API (payload format
// 2.0). It never returns an error: API Gateway would turn one into a bare 500 without our
// headers.
func (h *Handler) HandleAPIGateway(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	page := h.Handle(ctx, Request{
		Method:    req.RequestContext.HTTP.Method,
		RawQuery:  req.RawQueryString,
		RequestID: req.RequestContext.RequestID,
	})
	headers := make(map[string]string, len(page.Header))
	for k := range page.Header {
		headers[k] = page.Header.Get(k)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: page.Status,
		Headers:    headers,
		Body:       string(page.Body),
	}, nil
}

// ServeHTTP is the same endpoint for net/http: local runs and browser tests mount it at
// /auth/callback.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := h.Handle(r.Context(), Request{
		Method:    r.Method,
		RawQuery:  r.URL.RawQuery,
		RequestID: r.Header.Get("X-Request-Id"),
	})
	for k, v := range page.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(page.Body)))
	w.WriteHeader(page.Status)
	_, _ = w.Write(page.Body)
}
