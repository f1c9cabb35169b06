package connectsim_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// participantCall posts to a Participant Service route with a connection token and decodes the
// answer; it returns the status and error type.
func participantCall(t *testing.T, base, path, token string, body any, out any) (int, string) {
	t.Helper()
	hdr := map[string]string{}
	if token != "" {
		hdr["X-Amz-Bearer"] = token
	}
	resp, _ := doJSON(t, http.MethodPost, base+path, hdr, body, out)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType")
}

type uploadMetadata struct {
	AttachmentId   string
	UploadMetadata struct {
		Url              string
		UrlExpiry        string
		HeadersToInclude map[string]string
	}
}

// put sends a file to a pre-signed URL with the given headers.
func put(t *testing.T, u string, hdr map[string]string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestChatAttachmentRoundTrip(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{DisableThrottling: true})
	var chat connectsim.ChatParticipant
	if resp, b := doJSON(t, http.MethodPost, srv.URL+"/_connectsim/chats", nil, map[string]string{}, &chat); resp.StatusCode != 201 {
		t.Fatalf("POST chats: %d %s", resp.StatusCode, b)
	}
	file := []byte("appointment,2026-12-01T09:30\n")
	start := map[string]any{"ContentType": "text/csv", "AttachmentSizeInBytes": len(file), "AttachmentName": "appointment.csv", "ClientToken": "upload-1"}
	var up uploadMetadata
	if st, typ := participantCall(t, srv.URL, "/participant/start-attachment-upload", chat.ParticipantToken, start, &up); st != 200 {
		t.Fatalf("StartAttachmentUpload: %d %s", st, typ)
	}
	if len(up.AttachmentId) != 36 || up.UploadMetadata.UrlExpiry != "2025-03-10T14:05:00.000Z" || up.UploadMetadata.HeadersToInclude["Content-Type"] != "text/csv" ||
		!strings.HasPrefix(up.UploadMetadata.Url, srv.URL+"/attachment-store/"+up.AttachmentId+"?") {
		t.Fatalf("StartAttachmentUpload answered %+v", up)
	}
	u, _ := url.Parse(up.UploadMetadata.Url)
	if q := u.Query(); q.Get("X-Amz-Expires") != "300" || q.Get("X-Amz-Signature") == "" || q.Get("X-Amz-Date") != "20250310T140000Z" {
		t.Fatalf("upload URL %s", up.UploadMetadata.Url)
	}
	// The same ClientToken answers the same attachment.
	var again uploadMetadata
	participantCall(t, srv.URL, "/participant/start-attachment-upload", chat.ParticipantToken, start, &again)
	if again.AttachmentId != up.AttachmentId {
		t.Fatalf("replay: %s, want %s", again.AttachmentId, up.AttachmentId)
	}
	// Not uploaded yet: CompleteAttachmentUpload conflicts, GetAttachment refuses.
	complete := map[string]any{"AttachmentIds": []string{up.AttachmentId}, "ClientToken": "complete-1"}
	if st, typ := participantCall(t, srv.URL, "/participant/complete-attachment-upload", chat.ParticipantToken, complete, nil); st != 409 || typ != "ConflictException" {
		t.Fatalf("complete before the upload: %d %s", st, typ)
	}
	get := map[string]any{"AttachmentId": up.AttachmentId, "UrlExpiryInSeconds": 60}
	if st, typ := participantCall(t, srv.URL, "/participant/attachment", chat.ParticipantToken, get, nil); st != 400 || typ != "ValidationException" {
		t.Fatalf("GetAttachment before completion: %d %s", st, typ)
	}
	// Without the header to include, the signature does not match.
	if st, body := put(t, up.UploadMetadata.Url, nil, file); st != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("PUT without Content-Type: %d %s", st, body)
	}
	if st, body := put(t, strings.Replace(up.UploadMetadata.Url, "X-Amz-Expires=300", "X-Amz-Expires=3000", 1), up.UploadMetadata.HeadersToInclude, file); st != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("PUT with a longer validity: %d %s", st, body)
	}
	if st, body := put(t, up.UploadMetadata.Url, up.UploadMetadata.HeadersToInclude, append(file, 'x')); st != 400 || !strings.Contains(body, "EntityTooLarge") {
		t.Fatalf("PUT of more than declared: %d %s", st, body)
	}
	if st, body := put(t, up.UploadMetadata.Url, up.UploadMetadata.HeadersToInclude, file); st != 200 {
		t.Fatalf("PUT: %d %s", st, body)
	}
	if a := srv.Attachments(); len(a) != 1 || a[0].Status != connectsim.AttachmentUploaded || a[0].Uploaded != len(file) || a[0].ContactID != chat.ContactID {
		t.Fatalf("attachments: %+v", a)
	}
	for i := 0; i < 2; i++ { // confirming twice is harmless
		if st, typ := participantCall(t, srv.URL, "/participant/complete-attachment-upload", chat.ParticipantToken, complete, nil); st != 200 {
			t.Fatalf("CompleteAttachmentUpload: %d %s", st, typ)
		}
	}
	_ = srv.Advance(10 * time.Second)
	var got struct {
		Url                   string
		UrlExpiry             string
		AttachmentSizeInBytes int64
	}
	if st, typ := participantCall(t, srv.URL, "/participant/attachment", chat.ParticipantToken, get, &got); st != 200 {
		t.Fatalf("GetAttachment: %d %s", st, typ)
	}
	if got.UrlExpiry != "2025-03-10T14:01:10.000Z" || got.AttachmentSizeInBytes != int64(len(file)) {
		t.Fatalf("GetAttachment answered %+v", got)
	}
	resp, err := http.Get(got.Url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, file) || resp.Header.Get("Content-Type") != "text/csv" {
		t.Fatalf("download: %d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	// The download URL expires after UrlExpiryInSeconds.
	_ = srv.Advance(61 * time.Second)
	resp, _ = http.Get(got.Url)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "Request has expired") {
		t.Fatalf("expired download: %d %s", resp.StatusCode, body)
	}
	// Attachments are for active contacts: once the chat ends the token is refused.
	cl := srv.ConnectClient(t)
	if _, err := cl.StopContact(context.Background(), &connect.StopContactInput{InstanceId: inst, ContactId: aws.String(chat.ContactID)}); err != nil {
		t.Fatal(err)
	}
	if st, typ := participantCall(t, srv.URL, "/participant/attachment", chat.ParticipantToken, get, nil); st != 403 || typ != "AccessDeniedException" {
		t.Fatalf("after the chat ended: %d %s", st, typ)
	}
}

func TestChatAttachmentErrors(t *testing.T) {
	t.Parallel()
	w := connectsim.DefaultWorld()
	w.Attachments.PerContact = 2
	srv, _ := start(t, connectsim.Options{World: w, DisableThrottling: true})
	chat, _ := srv.StartChat("")
	other, _ := srv.StartChat("")
	ok := func(name, ct string, size int) map[string]any {
		return map[string]any{"ContentType": ct, "AttachmentSizeInBytes": size, "AttachmentName": name, "ClientToken": name}
	}
	for _, tc := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
		typ    string
	}{
		{"no connection token", "", ok("a.png", "image/png", 10), 403, "AccessDeniedException"},
		{"unknown connection token", "nope", ok("a.png", "image/png", 10), 403, "AccessDeniedException"},
		{"unsupported file type", chat.ParticipantToken, ok("setup.exe", "application/octet-stream", 10), 400, "ValidationException"},
		{"type not matching the name", chat.ParticipantToken, ok("scan.png", "application/pdf", 10), 400, "ValidationException"},
		{"over 20 MB", chat.ParticipantToken, ok("scan.pdf", "application/pdf", 20<<20+1), 400, "ValidationException"},
		{"size 0", chat.ParticipantToken, ok("scan.pdf", "application/pdf", 0), 400, "ValidationException"},
		{"no ClientToken", chat.ParticipantToken, map[string]any{"ContentType": "image/png", "AttachmentSizeInBytes": 1, "AttachmentName": "a.png"}, 400, "ValidationException"},
		{"257-character name", chat.ParticipantToken, ok(strings.Repeat("n", 253)+".png", "image/png", 1), 400, "ValidationException"},
		{"exactly 20 MB, with a charset", chat.ParticipantToken, ok("notes.txt", "text/plain; charset=utf-8", 20<<20), 200, ""},
		{"a wav from Firefox", chat.ParticipantToken, ok("voicemail.wav", "audio/x-wav", 100), 200, ""},
		{"a third attachment", chat.ParticipantToken, ok("third.jpg", "image/jpeg", 100), 402, "ServiceQuotaExceededException"},
	} {
		if st, typ := participantCall(t, srv.URL, "/participant/start-attachment-upload", tc.token, tc.body, nil); st != tc.status || typ != tc.typ {
			t.Errorf("%s: %d %s, want %d %s", tc.name, st, typ, tc.status, tc.typ)
		}
	}
	atts := srv.Attachments()
	if len(atts) != 2 {
		t.Fatalf("%d attachments", len(atts))
	}
	// Another participant cannot complete or read them.
	complete := map[string]any{"AttachmentIds": []string{atts[0].ID}, "ClientToken": "c"}
	if st, typ := participantCall(t, srv.URL, "/participant/complete-attachment-upload", other.ParticipantToken, complete, nil); st != 400 || typ != "ValidationException" {
		t.Errorf("another participant completes: %d %s", st, typ)
	}
	two := map[string]any{"AttachmentIds": []string{atts[0].ID, atts[1].ID}, "ClientToken": "c"}
	if st, typ := participantCall(t, srv.URL, "/participant/complete-attachment-upload", chat.ParticipantToken, two, nil); st != 400 || typ != "ValidationException" {
		t.Errorf("two attachments at once: %d %s", st, typ)
	}
	for _, exp := range []int{4, 301} {
		get := map[string]any{"AttachmentId": atts[0].ID, "UrlExpiryInSeconds": exp}
		if st, typ := participantCall(t, srv.URL, "/participant/attachment", chat.ParticipantToken, get, nil); st != 400 || typ != "ValidationException" {
			t.Errorf("UrlExpiryInSeconds %d: %d %s", exp, st, typ)
		}
	}
	// An upload URL is valid 300 s; completing an attachment never uploaded then fails.
	var up uploadMetadata
	chat2, _ := srv.StartChat("")
	participantCall(t, srv.URL, "/participant/start-attachment-upload", chat2.ParticipantToken, ok("late.pdf", "application/pdf", 4), &up)
	_ = srv.Advance(301 * time.Second)
	if st, body := put(t, up.UploadMetadata.Url, up.UploadMetadata.HeadersToInclude, []byte("%PDF")); st != 403 || !strings.Contains(body, "Request has expired") {
		t.Errorf("PUT after expiry: %d %s", st, body)
	}
	late := map[string]any{"AttachmentIds": []string{up.AttachmentId}, "ClientToken": "c"}
	if st, typ := participantCall(t, srv.URL, "/participant/complete-attachment-upload", chat2.ParticipantToken, late, nil); st != 400 || typ != "ValidationException" {
		t.Errorf("complete after the URL expired: %d %s", st, typ)
	}
	// A file shorter than declared is refused at completion.
	var short uploadMetadata
	participantCall(t, srv.URL, "/participant/start-attachment-upload", chat2.ParticipantToken, ok("short.pdf", "application/pdf", 10), &short)
	if st, _ := put(t, short.UploadMetadata.Url, short.UploadMetadata.HeadersToInclude, []byte("%PDF")); st != 200 {
		t.Fatalf("PUT short: %d", st)
	}
	if st, typ := participantCall(t, srv.URL, "/participant/complete-attachment-upload", chat2.ParticipantToken,
		map[string]any{"AttachmentIds": []string{short.AttachmentId}, "ClientToken": "c"}, nil); st != 400 || typ != "ValidationException" {
		t.Errorf("complete a short file: %d %s", st, typ)
	}
	if _, err := connectsim.ParseWorld([]byte(`{"attachments": {"extensions": [".exe"]}}`)); err == nil || !strings.Contains(err.Error(), ".exe") {
		t.Errorf("a world with .exe attachments: %v", err)
	}
	// A browser may call the store across origins.
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/attachment-store/x", nil)
	req.Header.Set("Origin", "https://example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://example.com" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}
