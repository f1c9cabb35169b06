// Package s3test serves gofakes3 (github.com/johannesboyne/gofakes3 v1.2.0, in-memory s3mem
// backend) on loopback for tests of code that reads S3 objects by version, with the two answers
// where gofakes3 differs from S3 put right:
//
//   - HeadObject in a bucket that was never versioned names no version ID. S3 makes version IDs
//     once versioning is on ("When you enable versioning, Amazon S3 generates a random number for
//     objects added to a bucket", x-amz-version-id in Common Response Headers, S3 API
//     reference; "null" where it is suspended), so such objects have none to name; s3mem's
//     HeadObject sends the ID it keeps internally for every object (its GetObject hides it).
//     shared/recipients copes with either answer, no ID or "null".
//   - GetObject and HeadObject with If-Match answer 412 PreconditionFailed when the object's ETag
//     is another ("Return the object only if its entity tag (ETag) is the same as the one
//     specified in this header; otherwise, return a 412 Precondition Failed error", GetObject,
//     S3 API reference); gofakes3 honours If-Match on PUT only. Options.IgnoreIfMatch keeps
//     gofakes3's answer, for a test of a reader that must not rely on the 412.
//
// Versioning itself is gofakes3's: PutBucketVersioning, GetObject with versionId, DeleteObject
// of a version (NoSuchVersion afterwards), ETags as the MD5 of the body.
package s3test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Options change the server's answers.
type Options struct {
	// IgnoreIfMatch answers as gofakes3 does: the object, whatever its ETag.
	IgnoreIfMatch bool
}

// Server is gofakes3 on loopback.
type Server struct {
	URL     string
	Backend *s3mem.Backend
	next    http.Handler
	opts    Options
	refused atomic.Int64
}

// Start serves an empty gofakes3 until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{Backend: s3mem.New(), opts: o}
	s.next = gofakes3.New(s.Backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Client is a real S3 client for the server (path-style addressing, as gofakes3 needs).
func (s *Server) Client() *s3.Client {
	return s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", "")},
		func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(s.URL), true })
}

// Bucket creates a bucket, versioned or not, and returns the client.
func (s *Server) Bucket(t testing.TB, name string, versioned bool) *s3.Client {
	t.Helper()
	if err := s.Backend.CreateBucket(name); err != nil {
		t.Fatal(err)
	}
	if versioned {
		if err := s.Backend.SetVersioningConfiguration(name, gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
			t.Fatal(err)
		}
	}
	return s.Client()
}

// Refused counts the reads answered 412 because of If-Match.
func (s *Server) Refused() int64 { return s.refused.Load() }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	s.next.ServeHTTP(rec, r)
	bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method == http.MethodHead && !s.versioned(bucket) {
		rec.Header().Del("x-amz-version-id")
	}
	if want := r.Header.Get("If-Match"); want != "" && !s.opts.IgnoreIfMatch && rec.Code < 300 && rec.Header().Get("ETag") != want {
		s.refused.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusPreconditionFailed)
		if r.Method == http.MethodGet {
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>`)
		}
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	if r.Method == http.MethodGet {
		w.Write(rec.Body.Bytes())
	}
}

func (s *Server) versioned(bucket string) bool {
	v, err := s.Backend.VersioningConfiguration(bucket)
	return err == nil && v.Enabled()
}
