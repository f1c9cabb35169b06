package authredirect

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// HandleAPIGateway answers GET and POST /auth/callback from an API Gateway HTTP API (payload
// format 2.0). It never returns an error: API Gateway would turn one into a bare 500 without
// our headers.
func (h *Handler) HandleAPIGateway(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r := Request{
		Method:       req.RequestContext.HTTP.Method,
		Path:         req.RawPath,
		RawQuery:     req.RawQueryString,
		ContentType:  headerValue(req.Headers, "content-type"),
		Body:         req.Body,
		RequestID:    req.RequestContext.RequestID,
		OriginVerify: headerValue(req.Headers, OriginVerifyHeader),
		Origin:       headerValue(req.Headers, "origin"),
		// Payload format 2.0 moves the Cookie header into cookies.
		Cookie: strings.Join(req.Cookies, "; "),
	}
	// HTTP APIs base64-encode every body but text/* and JSON/XML/JavaScript, so the page's form
	// body arrives encoded (verified against AWS in ministackorg/ministack#766); accept both.
	if req.IsBase64Encoded && len(req.Body) <= base64.StdEncoding.EncodedLen(MaxBodyLen+1) {
		if b, err := base64.StdEncoding.DecodeString(req.Body); err == nil {
			r.Body = string(b)
		} else {
			r.Body, r.BodyNotBase64 = "", true
		}
	}
	page := h.Handle(ctx, r)
	headers := make(map[string]string, len(page.Header))
	for k := range page.Header {
		if k != "Set-Cookie" { // payload format 2.0 returns cookies apart
			headers[k] = page.Header.Get(k)
		}
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: page.Status,
		Headers:    headers,
		Cookies:    page.Header.Values("Set-Cookie"),
		Body:       string(page.Body),
	}, nil
}

// headerValue reads a header of payload format 2.0 (API Gateway lowercases the names; a
// hand-written event may not).
func headerValue(headers map[string]string, name string) string {
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// ServeHTTP is the same endpoint for net/http: local runs and browser tests mount it at
// /auth/callback (GET and POST) and StartPath (POST).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := Request{
		Method:       r.Method,
		Path:         r.URL.Path,
		RawQuery:     r.URL.RawQuery,
		ContentType:  r.Header.Get("Content-Type"),
		RequestID:    r.Header.Get("X-Request-Id"),
		OriginVerify: r.Header.Get(OriginVerifyHeader),
		Origin:       r.Header.Get("Origin"),
		Cookie:       strings.Join(r.Header.Values("Cookie"), "; "),
	}
	if r.Method == http.MethodPost {
		// One byte more than allowed, so that Handle sees (and refuses) an oversized body.
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyLen+1))
		if err != nil {
			http.Error(w, "could not read the request body", http.StatusBadRequest)
			return
		}
		req.Body = string(body)
	}
	page := h.Handle(r.Context(), req)
	for k, v := range page.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(page.Body)))
	w.WriteHeader(page.Status)
	_, _ = w.Write(page.Body)
}
