package recipients_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/switchboard-connect/switchboard/shared/recipients"
)

// newS3 serves gofakes3 on loopback and returns a real S3 client for it (path-style).
func newS3(t testing.TB) *s3.Client {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	client := s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("imports")}); err != nil {
		t.Fatal(err)
	}
	return client
}

func put(t testing.TB, c *s3.Client, key, body string) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String(key), Body: bytes.NewReader([]byte(body))}); err != nil {
		t.Fatal(err)
	}
}

// memSink keeps rows by recipient ID; a second row with a taken ID is a repeat, kept in dups.
type memSink struct {
	mu     sync.Mutex
	rows   map[string]recipients.Row
	writes int
	dups   []int64
	failAt int // fail the failAt-th Write call (1-based), once
}

func (m *memSink) Write(_ context.Context, rows []recipients.Row) ([]recipients.Outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	if m.writes == m.failAt {
		m.failAt = 0
		return nil, errors.New("injected crash")
	}
	if m.rows == nil {
		m.rows = map[string]recipients.Row{}
	}
	out := make([]recipients.Outcome, len(rows))
	for i, r := range rows {
		prev, taken := m.rows[r.RecipientID]
		if taken && prev.Number != r.Number { // the same row again (a replayed chunk) is no repeat
			out[i] = recipients.RepeatedID
			if !slices.Contains(m.dups, r.Number) {
				m.dups = append(m.dups, r.Number)
			}
		}
		if !taken {
			m.rows[r.RecipientID] = r
		}
	}
	return out, nil
}

const sample = "\ufeffphone,recipient_id,time_zone,first_name,appointment\n" +
	"+12025550143,p1,,Ada,2026-12-03T09:30\n" +
	"(312) 555-0107,p2,America/Chicago,\"Lovelace, Ada\",\n" +
	"+442071838750,,,\"multi\nline\",x\n" +
	"+12025550144,p1,,Dup,\n" +
	"+12025550145,p5,,too,many,fields\n" +
	",p6,,NoPhone,\n" +
	"+12025550146,bad id!,,x,\n" +
	"+12025550147,p8,,Last,\n"

func TestImportWholeObject(t *testing.T) {
	c := newS3(t)
	put(t, c, "a.csv", sample)
	im := &recipients.Importer{S3: c, Bucket: "imports", Key: "a.csv", ChunkRows: 3}
	sink := &memSink{}
	var saved []recipients.Checkpoint
	p, err := im.Run(context.Background(), recipients.Checkpoint{}, 0, sink, func(cp recipients.Checkpoint) error {
		saved = append(saved, cp)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Done || p.Rows != 8 || p.Read != 8 || p.Duplicates != 1 || p.Problems != 3 {
		t.Fatalf("progress %+v", p)
	}
	if len(saved) != 3 || !saved[2].Done || saved[2].Offset != int64(len(sample)) {
		t.Fatalf("checkpoints %+v (object is %d bytes)", saved, len(sample))
	}
	want := map[string]recipients.Row{
		"p1":    {Number: 1, RecipientID: "p1", Phone: "+12025550143", Attributes: map[string]string{"first_name": "Ada", "appointment": "2026-12-03T09:30"}},
		"p2":    {Number: 2, RecipientID: "p2", Phone: "(312) 555-0107", TimeZone: "America/Chicago", Attributes: map[string]string{"first_name": "Lovelace, Ada"}},
		"row-3": {Number: 3, RecipientID: "row-3", Phone: "+442071838750", Attributes: map[string]string{"first_name": "multi\nline", "appointment": "x"}},
		"row-5": {Number: 5, RecipientID: "row-5", Problem: "malformed row: 6 fields, the header has 5"},
		"p6":    {Number: 6, RecipientID: "p6", Attributes: map[string]string{"first_name": "NoPhone"}, Problem: "no phone number"},
		"row-7": {Number: 7, RecipientID: "row-7", Problem: "recipient_id must be 1-128 of letters, digits and _ . : - (starting with a letter or digit)"},
		"p8":    {Number: 8, RecipientID: "p8", Phone: "+12025550147", Attributes: map[string]string{"first_name": "Last"}},
	}
	if len(sink.rows) != len(want) {
		t.Errorf("%d rows kept, want %d: %+v", len(sink.rows), len(want), sink.rows)
	}
	for id, w := range want {
		if got := sink.rows[id]; fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s:\n got %+v\nwant %+v", id, got, w)
		}
	}
	if fmt.Sprint(sink.dups) != "[4]" {
		t.Errorf("duplicates reported: %v, want row 4", sink.dups)
	}
}

// TestResumeAcrossInvocationsAndCrashes imports in runs of at most 2 rows, with a crash in the
// middle: the final rows are exactly those of one uninterrupted run.
func TestResumeAcrossInvocationsAndCrashes(t *testing.T) {
	c := newS3(t)
	put(t, c, "a.csv", sample)
	im := &recipients.Importer{S3: c, Bucket: "imports", Key: "a.csv", ChunkRows: 2}
	sink := &memSink{failAt: 3}
	var cp recipients.Checkpoint
	runs, crashes := 0, 0
	for !cp.Done && runs < 20 {
		runs++
		_, err := im.Run(context.Background(), cp, 2, sink, func(next recipients.Checkpoint) error {
			cp = next
			return nil
		})
		if err != nil {
			crashes++
		}
	}
	if !cp.Done || cp.Rows != 8 || crashes != 1 {
		t.Fatalf("after %d runs (%d crashes): %+v", runs, crashes, cp)
	}
	whole := &memSink{}
	if _, err := (&recipients.Importer{S3: c, Bucket: "imports", Key: "a.csv"}).Run(context.Background(), recipients.Checkpoint{}, 0, whole, func(recipients.Checkpoint) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sink.rows) != fmt.Sprint(whole.rows) {
		t.Errorf("resumed import differs:\n%v\n%v", sink.rows, whole.rows)
	}
	if fmt.Sprint(sink.dups) != "[4]" {
		t.Errorf("duplicates %v", sink.dups)
	}
}

func TestImportRefusals(t *testing.T) {
	c := newS3(t)
	put(t, c, "empty.csv", "")
	put(t, c, "nophone.csv", "number,name\n+12025550143,x\n")
	put(t, c, "twice.csv", "phone,phone\n")
	put(t, c, "badattr.csv", "phone,first name\n")
	put(t, c, "quote.csv", "phone,name\n+12025550143,ok\n+12025550144,\"never closed\n+12025550145,x\n")
	for key, want := range map[string]string{
		"empty.csv":   "the object is empty",
		"nophone.csv": "header has no phone column",
		"twice.csv":   `names column "phone" twice`,
		"badattr.csv": `"first name" is not an attribute name`,
		"missing.csv": "NoSuchKey",
	} {
		_, err := (&recipients.Importer{S3: c, Bucket: "imports", Key: key}).Run(context.Background(), recipients.Checkpoint{}, 0, &memSink{}, func(recipients.Checkpoint) error { return nil })
		var ie *recipients.ImportError
		if !errors.As(err, &ie) || ie.Row != 0 || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an ImportError at row 0 (permanent: no tick tries again) saying %q", key, err, want)
		}
	}
	sink := &memSink{}
	var cp recipients.Checkpoint
	_, err := (&recipients.Importer{S3: c, Bucket: "imports", Key: "quote.csv"}).Run(context.Background(), recipients.Checkpoint{}, 0, sink, func(n recipients.Checkpoint) error { cp = n; return nil })
	var ie *recipients.ImportError
	if !errors.As(err, &ie) || ie.Row != 2 || !strings.Contains(ie.Reason, "not valid CSV") {
		t.Fatalf("quote error: %v", err)
	}
	if len(sink.rows) != 1 || sink.rows["row-1"].Phone != "+12025550143" || cp.Rows != 1 || cp.Done {
		t.Errorf("rows before the bad one: %+v, checkpoint %+v", sink.rows, cp)
	}
	if strings.Contains(err.Error(), "2025550144") {
		t.Errorf("the error quotes a number: %v", err)
	}
}

func TestCheckTellsAMissingObjectFromAnUnreachableOne(t *testing.T) {
	c := newS3(t)
	put(t, c, "ok.csv", "phone\n+12025550143\n")
	put(t, c, "empty.csv", "")
	for key, missing := range map[string]bool{"ok.csv": false, "empty.csv": false, "missing.csv": true} {
		err := (&recipients.Importer{S3: c, Bucket: "imports", Key: key}).Check(context.Background())
		var ie *recipients.ImportError
		if missing != errors.As(err, &ie) || !missing && err != nil {
			t.Errorf("%s: %v (missing=%v)", key, err, missing)
		}
	}
	// A bucket that does not exist is no missing object: S3 says NoSuchBucket, the check fails
	// without an ImportError, and the launch is tried again.
	err := (&recipients.Importer{S3: c, Bucket: "no-such-bucket", Key: "k.csv"}).Check(context.Background())
	var ie *recipients.ImportError
	if err == nil || errors.As(err, &ie) {
		t.Errorf("no bucket: %v", err)
	}
}

// Importer.More ends a run after a chunk's checkpoint (a tick's deadline): the next run goes on
// from it, and the rows are those of one uninterrupted run.
func TestMoreEndsARunAtAChunk(t *testing.T) {
	c := newS3(t)
	put(t, c, "a.csv", sample)
	sink := &memSink{}
	cp := recipients.Checkpoint{}
	runs := 0
	for !cp.Done {
		im := &recipients.Importer{S3: c, Bucket: "imports", Key: "a.csv", ChunkRows: 3, More: func() bool { return false }}
		p, err := im.Run(context.Background(), cp, 0, sink, func(next recipients.Checkpoint) error { cp = next; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if p.Read > 3 {
			t.Fatalf("run %d read %d rows past a More that said no after its first chunk of 3", runs, p.Read)
		}
		runs++
		if runs > 5 {
			t.Fatal("the import never finished")
		}
	}
	if runs != 3 || len(sink.rows) != 7 || cp.Rows != 8 {
		t.Errorf("%d runs, %d rows kept, %d read: want 3 runs of a chunk each, 7 rows kept of 8", runs, len(sink.rows), cp.Rows)
	}
}
