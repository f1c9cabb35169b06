package recipients

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3API is the part of the S3 client the importer uses.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// Sink receives the rows of one chunk. Write must be idempotent: a chunk is written again after
// a crash before its checkpoint, and must come out the same. It returns what became of each row,
// and keeps the rows that did not become recipients in the import report itself, before it
// returns (so a crash repeats those writes too).
type Sink interface {
	Write(ctx context.Context, rows []Row) ([]Outcome, error)
}

// Outcome is what became of one row in a Sink.
type Outcome uint8

const (
	// Written: the row is a recipient (dialable or not), written now or by an earlier run of
	// its chunk.
	Written Outcome = iota
	// RepeatedID: an earlier row took the row's recipient ID; the row is in the import report.
	RepeatedID
	// Merged: an earlier row's recipient holds the row's number, and is the one called; the row
	// is in the import report, naming it.
	Merged
)

// Checkpoint is where an import stands: the byte offset of the first unread data row (0 before
// the first chunk: the header is read from the start) and the number of data rows read.
type Checkpoint struct {
	Offset int64
	Rows   int64
	Done   bool
}

// Progress reports one Run.
type Progress struct {
	Checkpoint
	Read       int64 // rows read in this run
	Duplicates int64 // rows whose recipient ID an earlier row took
	Merged     int64 // rows whose number an earlier row's recipient holds
	Problems   int64
}

// ObjectVersion is the one version of an object an import reads from start to end, so that a
// byte offset or a row number saved by one invocation means the same row to the next.
//
// S3 keeps every version of an object in a versioned bucket, and GetObject with a versionId
// returns that version rather than the current one (GetObject, "versionId": "By default, the
// GetObject operation returns the current version of an object. To return a different version,
// use the versionId subresource"; it needs s3:GetObjectVersion). An object written while the
// bucket was unversioned, or with versioning suspended, has the version ID "null", and a new
// upload then overwrites that version ("If a null version is already in the bucket and you add
// another object with the same key, the added object overwrites the original null version",
// Adding objects to versioning-suspended buckets, S3 User Guide); in an unversioned bucket S3
// returns no version ID at all. The ETag tells those apart: GetObject with If-Match returns the
// object "only if its entity tag (ETag) is the same as the one specified ...; otherwise, return
// a 412 Precondition Failed error". An import whose object changed under it stops with a
// reason, rather than read another object's rows at the old offsets.
type ObjectVersion struct {
	// VersionID as S3 gave it ("" in an unversioned bucket, "null" for a null version).
	VersionID string
	// ETag as S3 gave it, quotes included.
	ETag string
}

// Importer streams one object.
type Importer struct {
	S3     S3API
	Bucket string
	Key    string
	// Version is the version every read asks for (Importer.Current at the campaign's launch);
	// zero reads whatever the key holds at each read, as campaigns launched before versions
	// were pinned do.
	Version ObjectVersion
	// ChunkRows rows are written before each checkpoint (default 500), by Workers writers at
	// once (default 8).
	ChunkRows int
	Workers   int
	// More, when set, is asked after each chunk's checkpoint is saved: false ends the run there
	// (a tick's deadline), and the next run goes on from the checkpoint.
	More func() bool
}

// Run reads from cp for at most maxRows rows (or until the context says stop), writes each chunk
// to sink, and calls save with each new checkpoint after its chunk is written. It returns the
// last saved checkpoint.
func (im *Importer) Run(ctx context.Context, cp Checkpoint, maxRows int64, sink Sink, save func(Checkpoint) error) (Progress, error) {
	p := Progress{Checkpoint: cp}
	if cp.Done {
		return p, nil
	}
	chunk := im.ChunkRows
	if chunk <= 0 {
		chunk = 500
	}
	header, headerEnd, err := im.header(ctx)
	if err != nil {
		return p, stoppedAt(cp, err)
	}
	start := cp.Offset
	if start == 0 {
		start = headerEnd
	}
	body, err := im.open(ctx, start)
	if err != nil {
		return p, stoppedAt(cp, err)
	}
	defer body.Close()
	r := newReader(body)
	for {
		var rows []Row
		var end int64
		var stop *ImportError
		eof := false
		for len(rows) < chunk && (maxRows <= 0 || p.Read+int64(len(rows)) < maxRows) {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			n := cp.Rows + p.Read + int64(len(rows)) + 1
			var pe *csv.ParseError
			switch {
			case errors.As(err, &pe):
				// A quoting error: where the row ends cannot be known, so the import stops at this
				// row (after writing the rows before it) and says which; it never guesses.
				stop = &ImportError{Row: n, Reason: "not valid CSV: " + pe.Err.Error()}
			case err != nil:
				return p, fmt.Errorf("import s3://%s/%s: read: %w", im.Bucket, im.Key, err)
			}
			if stop != nil {
				break
			}
			rows = append(rows, header.Build(n, rec))
			end = start + r.InputOffset()
		}
		if len(rows) > 0 {
			outcomes, err := sink.Write(ctx, rows)
			if err == nil && len(outcomes) != len(rows) {
				err = fmt.Errorf("the sink reported %d outcomes for %d rows", len(outcomes), len(rows))
			}
			if err != nil {
				return p, fmt.Errorf("import s3://%s/%s: write rows %d-%d: %w", im.Bucket, im.Key, rows[0].Number, rows[len(rows)-1].Number, err)
			}
			for i, row := range rows {
				if row.Problem != "" {
					p.Problems++
				}
				switch outcomes[i] {
				case RepeatedID:
					p.Duplicates++
				case Merged:
					p.Merged++
				}
			}
			p.Read += int64(len(rows))
		}
		next := Checkpoint{Offset: end, Rows: cp.Rows + p.Read, Done: eof}
		if len(rows) == 0 {
			next.Offset = p.Offset
			if next.Offset == 0 {
				next.Offset = headerEnd
			}
		}
		if next != p.Checkpoint {
			if err := save(next); err != nil {
				return p, err
			}
			p.Checkpoint = next
		}
		if stop != nil {
			return p, stop
		}
		if eof || (maxRows > 0 && p.Read >= maxRows) || ctx.Err() != nil || (im.More != nil && !im.More()) {
			return p, nil
		}
	}
}

// ImportError stops an import for good at a row: the rows before it are imported, the row and
// the rest are not, and the campaign records why. Row 0 is the object itself: missing, empty, or
// with a header the importer cannot use; nothing is imported.
type ImportError struct {
	Row    int64
	Reason string
}

func (e *ImportError) Error() string {
	if e.Row == 0 {
		return "import stopped before the first data row: " + e.Reason
	}
	return fmt.Sprintf("import stopped at data row %d: %s", e.Row, e.Reason)
}

func newReader(body io.Reader) *csv.Reader {
	r := csv.NewReader(body)
	r.FieldsPerRecord = -1 // Header.Build judges the field count, row by row
	return r
}

// errReplaced: the object is not the version the import started on. Run turns it into an
// ImportError at the first row not imported.
var errReplaced = errors.New("the object was replaced after the launch, and the bucket keeps no earlier version to read instead (its ETag changed)")

// stoppedAt places a read's permanent failure at the first row the import had not read: the
// rows before it stay imported.
func stoppedAt(cp Checkpoint, err error) error {
	var ie *ImportError
	if errors.Is(err, errReplaced) {
		ie = &ImportError{Reason: errReplaced.Error()}
	} else if !errors.As(err, &ie) {
		return err
	}
	if cp.Rows > 0 && ie.Row == 0 {
		ie = &ImportError{Row: cp.Rows + 1, Reason: ie.Reason}
	}
	return ie
}

// get reads the object, or bytes rng of it, as Version says (any version when it is zero).
func (im *Importer) get(ctx context.Context, rng string) (*s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(im.Bucket), Key: aws.String(im.Key)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	if im.Version.VersionID != "" {
		in.VersionId = aws.String(im.Version.VersionID)
	}
	if im.Version.ETag != "" {
		in.IfMatch = aws.String(im.Version.ETag)
	}
	out, err := im.S3.GetObject(ctx, in)
	if err != nil {
		if isPreconditionFailed(err) {
			return nil, errReplaced
		}
		return nil, err
	}
	// S3 answers If-Match with 412 itself; a server that ignores the header (gofakes3 does on
	// GET) still names the ETag of what it sends.
	if im.Version.ETag != "" && out.ETag != nil && *out.ETag != im.Version.ETag {
		out.Body.Close()
		return nil, errReplaced
	}
	return out, nil
}

func (im *Importer) open(ctx context.Context, from int64) (io.ReadCloser, error) {
	rng := ""
	if from > 0 {
		rng = fmt.Sprintf("bytes=%d-", from)
	}
	out, err := im.get(ctx, rng)
	if err != nil {
		if from > 0 && isRangeNotSatisfiable(err) {
			// Past the end of the version read so far, or of another, shorter object: only the
			// first is the end of the import.
			if err := im.sameVersion(ctx); err != nil {
				return nil, err
			}
			return io.NopCloser(eofReader{}), nil
		}
		return nil, im.readErr(err)
	}
	return out.Body, nil
}

// readErr names a failed read: permanent ones (the object or its version is gone, or it was
// replaced) as errors the import stops on, instead of every tick trying again.
func (im *Importer) readErr(err error) error {
	switch {
	case errors.Is(err, errReplaced):
		return err
	case isNoSuchVersion(err):
		return &ImportError{Reason: "the version of the object read since the launch was deleted (NoSuchVersion)"}
	case isNotFound(err):
		return &ImportError{Reason: "the object does not exist (NoSuchKey)"}
	}
	return fmt.Errorf("import s3://%s/%s: %w", im.Bucket, im.Key, err)
}

// sameVersion checks, with one byte, that the object is still the version the import reads.
func (im *Importer) sameVersion(ctx context.Context) error {
	if im.Version == (ObjectVersion{}) {
		return nil
	}
	out, err := im.get(ctx, "bytes=0-0")
	if err != nil {
		if isRangeNotSatisfiable(err) {
			return errReplaced // now empty: the version read so far had a header row
		}
		return im.readErr(err)
	}
	return out.Body.Close()
}

// Current reads which version of the object the key holds now (HeadObject: its version ID and
// ETag), for a campaign to pin at its launch. An *ImportError when the object does not exist;
// another error when S3 could not say (try again).
func (im *Importer) Current(ctx context.Context) (ObjectVersion, error) {
	out, err := im.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(im.Bucket), Key: aws.String(im.Key)})
	if err == nil {
		return ObjectVersion{VersionID: aws.ToString(out.VersionId), ETag: aws.ToString(out.ETag)}, nil
	}
	if isNotFound(err) {
		// A HEAD response has no body, so its 404 does not say whether the key or the bucket
		// is missing: Check asks with a GET, whose error names it.
		if cerr := im.Check(ctx); cerr != nil {
			return ObjectVersion{}, cerr
		}
	}
	return ObjectVersion{}, fmt.Errorf("head s3://%s/%s: %w", im.Bucket, im.Key, err)
}

// header reads the header row and the byte offset where the data rows start.
func (im *Importer) header(ctx context.Context) (Header, int64, error) {
	body, err := im.open(ctx, 0)
	if err != nil {
		return Header{}, 0, err
	}
	defer body.Close()
	r := newReader(io.LimitReader(body, MaxRowBytes*2))
	rec, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Header{}, 0, &ImportError{Reason: "the object is empty (a header row is required)"}
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Header{}, 0, &ImportError{Reason: "header: " + pe.Err.Error()}
		}
		return Header{}, 0, fmt.Errorf("import s3://%s/%s: header: %v", im.Bucket, im.Key, err)
	}
	h, err := ParseHeader(rec)
	if err != nil {
		// A header the importer cannot use will not get better by reading it again.
		return h, 0, &ImportError{Reason: err.Error()}
	}
	return h, r.InputOffset(), nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Check tells whether the object can be imported at all: an *ImportError when it does not exist,
// another error when S3 could not say (try again), nil when it exists. It reads one byte.
func (im *Importer) Check(ctx context.Context) error {
	out, err := im.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(im.Bucket), Key: aws.String(im.Key), Range: aws.String("bytes=0-0")})
	switch {
	case err == nil:
		return out.Body.Close()
	case isRangeNotSatisfiable(err):
		return nil // it exists and is empty: the import reports that
	case isNotFound(err):
		return &ImportError{Reason: "the object does not exist (NoSuchKey)"}
	}
	return fmt.Errorf("check s3://%s/%s: %w", im.Bucket, im.Key, err)
}

// isNotFound: S3 says the key does not exist (NoSuchKey, or a 404 without an error body, as a
// ranged GET can get), not that the bucket does not (NoSuchBucket: the deployment's problem, which
// a later try may find fixed).
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket" {
		return false
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == 404
}

func isNoSuchVersion(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchVersion"
}

func isPreconditionFailed(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed" {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == 412
}

func isRangeNotSatisfiable(err error) bool {
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == 416
}

// ParallelWrite runs write(i) for every i in [0, n) with at most workers at once (default 8),
// for a Sink whose writes are single-item, and returns their errors joined.
func ParallelWrite(ctx context.Context, n, workers int, write func(ctx context.Context, i int) error) error {
	if workers <= 0 {
		workers = 8
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = write(ctx, i)
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}
