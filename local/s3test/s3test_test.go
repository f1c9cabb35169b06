package s3test_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/switchboard-connect/switchboard/local/s3test"
)

// TestTheServerAnswersAsS3: no version ID from HeadObject in an unversioned bucket, one in a
// versioned bucket; If-Match with another ETag answered 412 PreconditionFailed, unless the
// server is told to ignore it as gofakes3 does.
func TestTheServerAnswersAsS3(t *testing.T) {
	ctx := context.Background()
	for _, ignore := range []bool{false, true} {
		srv := s3test.Start(t, s3test.Options{IgnoreIfMatch: ignore})
		c := srv.Bucket(t, "plain", false)
		srv.Bucket(t, "versioned", true)
		for _, bucket := range []string{"plain", "versioned"} {
			put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("v1")})
			if err != nil {
				t.Fatal(err)
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
			if err != nil {
				t.Fatal(err)
			}
			if (bucket == "versioned") != (aws.ToString(head.VersionId) != "") || aws.ToString(head.VersionId) != aws.ToString(put.VersionId) {
				t.Errorf("%s: HeadObject version %q, PutObject's %q", bucket, aws.ToString(head.VersionId), aws.ToString(put.VersionId))
			}
			if aws.ToString(head.ETag) != aws.ToString(put.ETag) || aws.ToString(head.ETag) == "" {
				t.Errorf("%s: ETags %q and %q", bucket, aws.ToString(head.ETag), aws.ToString(put.ETag))
			}
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), IfMatch: head.ETag})
			if err != nil {
				t.Fatalf("%s: If-Match with the object's ETag: %v", bucket, err)
			}
			get.Body.Close()
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), IfMatch: aws.String(`"0123"`), Range: aws.String("bytes=1-")})
			var ae smithy.APIError
			if refused := errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed"; refused == ignore {
				t.Errorf("%s, ignore If-Match %v: GetObject with another ETag: %v", bucket, ignore, err)
			}
		}
		if want := map[bool]int64{false: 2, true: 0}[ignore]; srv.Refused() != want {
			t.Errorf("ignore If-Match %v: %d reads refused, want %d", ignore, srv.Refused(), want)
		}
	}
}
