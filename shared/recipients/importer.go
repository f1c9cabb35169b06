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
}

// Sink receives the rows of one chunk. Write must be idempotent: a chunk is written again after
// a crash before its checkpoint. It returns, per row, whether the row was new (false: its
// recipient ID was taken by an earlier row, which the importer reports).
type Sink interface {
	Write(ctx context.Context, rows []Row) (fresh []bool, err error)
	// Duplicate records a row whose recipient ID an earlier row already used.
	Duplicate(ctx context.Context, row Row) error
}

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
	Duplicates int64
	Problems   int64
}

// Importer streams one object.
type Importer struct {
	S3     S3API
	Bucket string
	Key    string
	// ChunkRows rows are written before each checkpoint (default 500), by Workers writers at
	// once (default 8).
	ChunkRows int
	Workers   int
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
		return p, err
	}
	start := cp.Offset
	if start == 0 {
		start = headerEnd
	}
	body, err := im.open(ctx, start)
	if err != nil {
		return p, err
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
			fresh, err := sink.Write(ctx, rows)
			if err != nil {
				return p, fmt.Errorf("import s3://%s/%s: write rows %d-%d: %w", im.Bucket, im.Key, rows[0].Number, rows[len(rows)-1].Number, err)
			}
			for i, row := range rows {
				if row.Problem != "" {
					p.Problems++
				}
				if !fresh[i] {
					p.Duplicates++
					if err := sink.Duplicate(ctx, row); err != nil {
						return p, err
					}
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
		if eof || (maxRows > 0 && p.Read >= maxRows) || ctx.Err() != nil {
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

func (im *Importer) open(ctx context.Context, from int64) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(im.Bucket), Key: aws.String(im.Key)}
	if from > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", from))
	}
	out, err := im.S3.GetObject(ctx, in)
	if err != nil {
		if from > 0 && isRangeNotSatisfiable(err) {
			return io.NopCloser(eofReader{}), nil
		}
		if isNotFound(err) {
			// Permanent: the import stops with this reason in the report, instead of every tick
			// trying again.
			return nil, &ImportError{Reason: "the object does not exist (NoSuchKey)"}
		}
		return nil, fmt.Errorf("import s3://%s/%s: %w", im.Bucket, im.Key, err)
	}
	return out.Body, nil
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

func isRangeNotSatisfiable(err error) bool {
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == 416
}

// ParallelWrite runs write for each row (with its index in rows) with at most workers at once,
// for a Sink whose writes are single-item.
func ParallelWrite(ctx context.Context, rows []Row, workers int, write func(ctx context.Context, i int, row Row) (bool, error)) ([]bool, error) {
	if workers <= 0 {
		workers = 8
	}
	fresh := make([]bool, len(rows))
	errs := make([]error, len(rows))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i := range rows {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			fresh[i], errs[i] = write(ctx, i, rows[i])
		}(i)
	}
	wg.Wait()
	return fresh, errors.Join(errs...)
}
