package recipients_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchboard-connect/switchboard/local/s3test"
	"github.com/switchboard-connect/switchboard/shared/recipients"
)

// newS3With serves bucket "imports", versioned or not, from gofakes3 answering HeadObject and
// If-Match as S3 does (local/s3test), or ignoring If-Match as gofakes3 itself does.
func newS3With(t testing.TB, ignoreIfMatch, versioned bool) (*s3test.Server, *s3.Client) {
	t.Helper()
	srv := s3test.Start(t, s3test.Options{IgnoreIfMatch: ignoreIfMatch})
	return srv, srv.Bucket(t, "imports", versioned)
}

func putV(t testing.TB, c *s3.Client, key, body string) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// v2 is v1 with a row inserted at the top: each of v1's rows is one row further down.
const (
	v1 = "phone,first_name\n+12025550201,A\n+12025550202,B\n+12025550203,C\n+12025550204,D\n"
	v2 = "phone,first_name\n+12025550999,Intruder\n+12025550201,A\n+12025550202,B\n+12025550203,C\n+12025550204,D\n"
)

// importInRuns imports two rows a run, calling between after the first run, until the import is
// done or stops; it returns the sink and the error that stopped it.
func importInRuns(t *testing.T, im *recipients.Importer, between func()) (*memSink, recipients.Checkpoint, error) {
	t.Helper()
	sink := &memSink{}
	var cp recipients.Checkpoint
	for run := 0; run < 10 && !cp.Done; run++ {
		_, err := im.Run(context.Background(), cp, 2, sink, func(next recipients.Checkpoint) error { cp = next; return nil })
		if err != nil {
			return sink, cp, err
		}
		if run == 0 {
			between()
		}
	}
	return sink, cp, nil
}

func phones(sink *memSink) string {
	out := map[string]string{}
	for id, r := range sink.rows {
		out[id] = r.Phone
	}
	return fmt.Sprint(out)
}

// TestAPinnedImportReadsItsVersionToTheEnd: in a versioned bucket, v2 uploaded after two rows
// of v1 were read changes nothing: the import reads v1 to its end.
func TestAPinnedImportReadsItsVersionToTheEnd(t *testing.T) {
	_, c := newS3With(t, false, true)
	put1 := putV(t, c, "a.csv", v1)
	im := &recipients.Importer{S3: c, Bucket: "imports", Key: "a.csv"}
	ver, err := im.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ver.VersionID == "" || ver.VersionID != aws.ToString(put1.VersionId) || ver.ETag != aws.ToString(put1.ETag) {
		t.Fatalf("Current %+v, PutObject gave version %s and ETag %s", ver, aws.ToString(put1.VersionId), aws.ToString(put1.ETag))
	}
	im.Version = ver
	sink, cp, err := importInRuns(t, im, func() { putV(t, c, "a.csv", v2) })
	if err != nil {
		t.Fatal(err)
	}
	if want := "map[row-1:+12025550201 row-2:+12025550202 row-3:+12025550203 row-4:+12025550204]"; phones(sink) != want || !cp.Done || cp.Rows != 4 {
		t.Errorf("rows %s (checkpoint %+v)\nwant %s", phones(sink), cp, want)
	}
}

// TestAReplacedObjectStopsTheImport: in an unversioned bucket v1's bytes are gone once v2 is
// uploaded; the import stops at row 3, the first it had not read, and reads nothing of v2, both
// where the server refuses the read (412, as S3 does) and where it sends v2 with v2's ETag.
func TestAReplacedObjectStopsTheImport(t *testing.T) {
	for _, s3Does := range []string{"412", "ignores If-Match"} {
		t.Run(s3Does, func(t *testing.T) {
			srv, c := newS3With(t, s3Does != "412", false)
			putV(t, c, "a.csv", v1)
			im := &recipients.Importer{S3: c, Bucket: "imports", Key: "a.csv"}
			ver, err := im.Current(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if ver.VersionID != "" || ver.ETag == "" {
				t.Fatalf("unversioned object: %+v", ver)
			}
			im.Version = ver
			sink, cp, err := importInRuns(t, im, func() { putV(t, c, "a.csv", v2) })
			var ie *recipients.ImportError
			if !errors.As(err, &ie) || ie.Row != 3 || !strings.Contains(ie.Reason, "replaced") {
				t.Fatalf("%v: want an ImportError at row 3 saying the object was replaced", err)
			}
			if want := "map[row-1:+12025550201 row-2:+12025550202]"; phones(sink) != want || cp.Rows != 2 || cp.Done {
				t.Errorf("rows %s (checkpoint %+v), want %s", phones(sink), cp, want)
			}
			if s3Does == "412" && srv.Refused() == 0 {
				t.Error("no read was refused with 412: the importer did not send If-Match")
			}
		})
	}
}

// afterHeader calls replace once, after the first read of the whole object (a run's header
// read) once armed.
type afterHeader struct {
	recipients.S3API
	armed   bool
	replace func()
}

func (a *afterHeader) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := a.S3API.GetObject(ctx, in, o...)
	if a.armed && in.Range == nil {
		a.armed = false
		a.replace()
	}
	return out, err
}

// TestTheEndOfAReplacedObjectIsNotTheEndOfTheImport: two runs read v1's four rows to its last
// byte without seeing the end; the third run reads the header, then the object is replaced by a
// shorter one, then the run asks for the bytes after v1's last row, which the shorter object
// does not have (416, which takes precedence over If-Match: RFC 9110 13.2.1 has a server ignore
// preconditions when the request would fail without them). That is the end of the import only
// if the object is still v1.
func TestTheEndOfAReplacedObjectIsNotTheEndOfTheImport(t *testing.T) {
	for _, versioned := range []bool{true, false} {
		t.Run(fmt.Sprintf("versioned=%v", versioned), func(t *testing.T) {
			_, c := newS3With(t, false, versioned)
			putV(t, c, "a.csv", v1)
			hook := &afterHeader{S3API: c, replace: func() { putV(t, c, "a.csv", "phone\n+12025550999\n") }}
			im := &recipients.Importer{S3: hook, Bucket: "imports", Key: "a.csv", ChunkRows: 2}
			ver, err := im.Current(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			im.Version = ver
			sink := &memSink{}
			var cp recipients.Checkpoint
			for run := 0; run < 2; run++ {
				if _, err := im.Run(context.Background(), cp, 2, sink, func(next recipients.Checkpoint) error { cp = next; return nil }); err != nil {
					t.Fatal(err)
				}
			}
			if cp.Rows != 4 || cp.Done || cp.Offset != int64(len(v1)) {
				t.Fatalf("after two runs: %+v (v1 is %d bytes)", cp, len(v1))
			}
			hook.armed = true
			_, err = im.Run(context.Background(), cp, 2, sink, func(next recipients.Checkpoint) error { cp = next; return nil })
			var ie *recipients.ImportError
			if versioned {
				if err != nil || !cp.Done || len(sink.rows) != 4 {
					t.Errorf("versioned: %v, checkpoint %+v, %d rows: want v1 done with 4", err, cp, len(sink.rows))
				}
			} else if !errors.As(err, &ie) || ie.Row != 5 || !strings.Contains(ie.Reason, "replaced") || cp.Done {
				t.Errorf("unversioned: %v, checkpoint %+v: want an ImportError at row 5 saying the object was replaced", err, cp)
			}
		})
	}
}

// TestADeletedVersionStopsTheImport: the version read since the launch is deleted (not the key:
// a new version is current). The import stops with NoSuchVersion, the reason S3 gives.
func TestADeletedVersionStopsTheImport(t *testing.T) {
	_, c := newS3With(t, false, true)
	first := putV(t, c, "a.csv", v1)
	im := &recipients.Importer{S3: c, Bucket: "imports", Key: "a.csv"}
	ver, err := im.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	im.Version = ver
	_, _, err = importInRuns(t, im, func() {
		putV(t, c, "a.csv", v2)
		if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("imports"), Key: aws.String("a.csv"), VersionId: first.VersionId}); err != nil {
			t.Fatal(err)
		}
	})
	var ie *recipients.ImportError
	if !errors.As(err, &ie) || ie.Row != 3 || !strings.Contains(ie.Reason, "NoSuchVersion") {
		t.Errorf("%v: want an ImportError at row 3 naming NoSuchVersion", err)
	}
}

// TestCurrentTellsAMissingObjectFromAMissingBucket: HEAD's 404 has no body to say which is
// missing; Current asks again with a GET, so a missing object stops the campaign (ImportError)
// and a missing bucket is a failure to try again.
func TestCurrentTellsAMissingObjectFromAMissingBucket(t *testing.T) {
	_, c := newS3With(t, false, true)
	var ie *recipients.ImportError
	if _, err := (&recipients.Importer{S3: c, Bucket: "imports", Key: "missing.csv"}).Current(context.Background()); !errors.As(err, &ie) || !strings.Contains(ie.Reason, "NoSuchKey") {
		t.Errorf("missing object: %v", err)
	}
	if _, err := (&recipients.Importer{S3: c, Bucket: "no-such-bucket", Key: "a.csv"}).Current(context.Background()); err == nil || errors.As(err, &ie) {
		t.Errorf("missing bucket: %v, want an error that is no ImportError", err)
	}
}
