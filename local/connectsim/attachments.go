package connectsim

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Chat attachments of the Connect Participant Service: StartAttachmentUpload answers a
// pre-signed upload URL that connectsim itself serves (/attachment-store/{id}, S3's way: PUT
// the bytes with the headers to include, before the URL expires), CompleteAttachmentUpload
// confirms the upload, GetAttachment answers a pre-signed download URL on the same path.

// AttachmentProfile is what chat attachments may be. The defaults are the admin guide's
// feature specifications: 20 MB, 35 attachments per chat conversation, and its file types.
type AttachmentProfile struct {
	// MaxSizeBytes is the largest attachment (default 20 MB, 20,971,520 bytes).
	MaxSizeBytes int64 `json:"maxSizeBytes,omitempty"`
	// PerContact is how many attachments a chat may have (default 35); past it
	// StartAttachmentUpload answers ServiceQuotaExceededException (402).
	PerContact int `json:"perContact,omitempty"`
	// Extensions are the file types accepted, by extension of AttachmentName; ContentType must
	// be a MIME type of one of them (see attachmentTypes).
	Extensions []string `json:"extensions,omitempty"`
}

// attachmentTypes maps the feature specifications' file types (".csv, .doc, .docx, .jpeg, .jpg,
// .pdf, .png, .ppt, .pptx, .txt, .wav, .xls, .xlsx") to their MIME types.
var attachmentTypes = map[string][]string{
	".csv": {"text/csv"}, ".doc": {"application/msword"},
	".docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	".jpeg": {"image/jpeg"}, ".jpg": {"image/jpeg"}, ".pdf": {"application/pdf"}, ".png": {"image/png"},
	".ppt":  {"application/vnd.ms-powerpoint"},
	".pptx": {"application/vnd.openxmlformats-officedocument.presentationml.presentation"},
	".txt":  {"text/plain"}, ".wav": {"audio/wav", "audio/x-wav", "audio/wave"},
	".xls":  {"application/vnd.ms-excel"},
	".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
}

// DefaultAttachmentProfile is 20 MB, 35 a chat, the documented file types.
func DefaultAttachmentProfile() AttachmentProfile {
	return AttachmentProfile{MaxSizeBytes: 20 << 20, PerContact: 35,
		Extensions: []string{".csv", ".doc", ".docx", ".jpeg", ".jpg", ".pdf", ".png", ".ppt", ".pptx", ".txt", ".wav", ".xls", ".xlsx"}}
}

func (p AttachmentProfile) withDefaults() AttachmentProfile {
	def := DefaultAttachmentProfile()
	if p.MaxSizeBytes == 0 {
		p.MaxSizeBytes = def.MaxSizeBytes
	}
	if p.PerContact == 0 {
		p.PerContact = def.PerContact
	}
	if len(p.Extensions) == 0 {
		p.Extensions = def.Extensions
	}
	return p
}

// Validate reports an unusable profile.
func (p AttachmentProfile) Validate() error {
	if p.MaxSizeBytes < 1 || p.MaxSizeBytes > 100<<20 {
		return fmt.Errorf("attachments.maxSizeBytes must be from 1 to %d", 100<<20)
	}
	if p.PerContact < 1 {
		return fmt.Errorf("attachments.perContact must be at least 1")
	}
	for _, e := range p.Extensions {
		if attachmentTypes[e] == nil {
			return fmt.Errorf("attachments.extensions: %q is not one of the known types (.csv, .doc, .docx, .jpeg, .jpg, .pdf, .png, .ppt, .pptx, .txt, .wav, .xls, .xlsx)", e)
		}
	}
	return nil
}

// attachmentURLTTL is how long an upload URL (and, by default, a download URL) is valid. The
// reference gives no figure for StartAttachmentUpload and no default for GetAttachment's
// UrlExpiryInSeconds (5-300); 300 s is the documented default of Connect's own
// StartAttachedFileUpload, assumed for both.
const attachmentURLTTL = 300 * time.Second

// Attachment statuses.
const (
	AttachmentStarted   = "STARTED"   // StartAttachmentUpload answered
	AttachmentUploaded  = "UPLOADED"  // the bytes were PUT to the upload URL
	AttachmentCompleted = "COMPLETED" // CompleteAttachmentUpload confirmed it
)

// attachment is one chat attachment. Guarded by Sim.mu.
type attachment struct {
	id, contactID     string
	name, contentType string
	size              int64 // as declared
	data              []byte
	status            string
	clientToken       string
	created, expires  time.Time // of the upload URL
}

// chatState holds the chat attachments. Guarded by Sim.mu.
type chatState struct {
	attachments map[string]*attachment
	secret      []byte // signs the pre-signed URLs
}

func (s *Sim) resetAttachmentsLocked() {
	s.chats = chatState{attachments: map[string]*attachment{}, secret: make([]byte, 32)}
	_, _ = rand.Read(s.chats.secret)
}

// AttachmentView is a snapshot of an attachment (GET /_connectsim/attachments).
type AttachmentView struct {
	ID          string    `json:"id"`
	ContactID   string    `json:"contactId"`
	Name        string    `json:"name"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	Uploaded    int       `json:"uploadedBytes"`
	Status      string    `json:"status"`
	Created     time.Time `json:"created"`
}

// Attachments returns every chat attachment, oldest first.
func (s *Sim) Attachments() []AttachmentView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AttachmentView, 0, len(s.chats.attachments))
	for _, a := range s.chats.attachments {
		out = append(out, AttachmentView{ID: a.id, ContactID: a.contactID, Name: a.name, ContentType: a.contentType,
			Size: a.size, Uploaded: len(a.data), Status: a.status, Created: a.created})
	}
	slices.SortFunc(out, func(a, b AttachmentView) int { return a.Created.Compare(b.Created) })
	return out
}

// ChatParticipant is a chat contact and its customer's participant connection token, for the
// Participant Service operations (X-Amz-Bearer).
type ChatParticipant struct {
	ContactID        string `json:"contactId"`
	ParticipantToken string `json:"participantToken"`
}

// StartChat creates a chat contact with a customer participant connection (POST
// /_connectsim/chats). An empty instanceID means DefaultInstanceID.
func (s *Sim) StartChat(instanceID string) (ChatParticipant, error) {
	c, err := s.CreateContact(NewContact{InstanceID: instanceID, Channel: ChannelChat, InitiationMethod: "API"})
	if err != nil {
		return ChatParticipant{}, err
	}
	token := randomToken(32)
	s.mu.Lock()
	s.pTokens[token] = c.ID
	s.mu.Unlock()
	return ChatParticipant{ContactID: c.ID, ParticipantToken: token}, nil
}

// participantContactLocked finds the active contact of a connection token: AccessDenied for an
// unknown token or an ended contact (attachments are "for use with active contacts").
func (s *Sim) participantContactLocked(token string) (*contact, *apiError) {
	id, ok := s.pTokens[token]
	c := s.contacts[id]
	if !ok || c == nil {
		return nil, newErr(errAccessDenied, "You do not have sufficient access to perform this action: the connection token is not valid")
	}
	if !c.active() {
		return nil, newErr(errAccessDenied, "You do not have sufficient access to perform this action: the contact has ended")
	}
	return c, nil
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// presign makes a URL of the attachment store, S3's way: the signing date and validity in the
// query, and a signature over method, attachment, date and validity.
func (s *Sim) presign(base, method, id string, at time.Time, ttl time.Duration) string {
	q := url.Values{}
	q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	q.Set("X-Amz-Date", at.UTC().Format("20060102T150405Z"))
	q.Set("X-Amz-Expires", strconv.Itoa(int(ttl/time.Second)))
	if method == http.MethodPut {
		q.Set("X-Amz-SignedHeaders", "content-type;host")
	} else {
		q.Set("X-Amz-SignedHeaders", "host")
	}
	q.Set("X-Amz-Signature", s.storeSignature(method, id, q.Get("X-Amz-Date"), q.Get("X-Amz-Expires")))
	return base + "/attachment-store/" + id + "?" + q.Encode()
}

func (s *Sim) storeSignature(method, id, date, expires string) string {
	m := hmac.New(sha256.New, s.chats.secret)
	fmt.Fprintf(m, "%s\n%s\n%s\n%s", method, id, date, expires)
	return hex.EncodeToString(m.Sum(nil))
}

type startAttachmentUploadInput struct {
	ContentType           *string
	AttachmentSizeInBytes *int64
	AttachmentName        *string
	ClientToken           *string
}

// participantInput decodes a Participant Service request into in and checks it with shapes and
// the connection token's length: ValidationException. It returns the connection token.
func (c *call) participantInput(in any, shapes func(*check)) (string, *apiError) {
	if e := c.decode(in); e != nil {
		return "", e
	}
	token := c.r.Header.Get("X-Amz-Bearer")
	var ck check
	shapes(&ck)
	ck.length("ConnectionToken", &token, 1, 1000)
	return token, ck.errAs(errValidation)
}

func (s *Sim) startAttachmentUpload(c *call) (any, *apiError) {
	var in startAttachmentUploadInput
	token, e := c.participantInput(&in, func(ck *check) {
		ck.required("ContentType", in.ContentType != nil)
		ck.length("ContentType", in.ContentType, 1, 255)
		ck.required("AttachmentSizeInBytes", in.AttachmentSizeInBytes != nil)
		ck.intRange("AttachmentSizeInBytes", in.AttachmentSizeInBytes, 1, 1<<53)
		ck.required("AttachmentName", in.AttachmentName != nil)
		ck.length("AttachmentName", in.AttachmentName, 1, 256)
		ck.required("ClientToken", in.ClientToken != nil)
		ck.length("ClientToken", in.ClientToken, 1, 500)
	})
	if e != nil {
		return nil, e
	}
	p := s.world.Attachments
	ext := strings.ToLower(path.Ext(*in.AttachmentName))
	ct := strings.ToLower(strings.TrimSpace(strings.Split(*in.ContentType, ";")[0]))
	switch {
	case !slices.Contains(p.Extensions, ext):
		return nil, newErr(errValidation, "The file type %s is not supported for chat attachments (supported: %s)", quoteValue(ext), strings.Join(p.Extensions, ", "))
	case !slices.Contains(attachmentTypes[ext], ct):
		return nil, newErr(errValidation, "ContentType %s does not match the file type %s (want %s)", quoteValue(*in.ContentType), ext, strings.Join(attachmentTypes[ext], " or "))
	case *in.AttachmentSizeInBytes > p.MaxSizeBytes:
		return nil, newErr(errValidation, "AttachmentSizeInBytes %d is over the maximum of %d bytes for a chat attachment", *in.AttachmentSizeInBytes, p.MaxSizeBytes)
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	ctc, e := s.participantContactLocked(token)
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	var a *attachment
	n := 0
	for _, x := range s.chats.attachments {
		if x.contactID == ctc.id {
			n++
			if x.clientToken == *in.ClientToken {
				a = x // an idempotent replay
			}
		}
	}
	if a == nil {
		if n >= p.PerContact {
			return nil, newErr(errServiceQuotaExceeded, "The number of attachments per contact exceeds the quota of %d", p.PerContact)
		}
		a = &attachment{id: newUUID(), contactID: ctc.id, name: *in.AttachmentName, contentType: *in.ContentType,
			size: *in.AttachmentSizeInBytes, status: AttachmentStarted, clientToken: *in.ClientToken,
			created: now, expires: now.Add(attachmentURLTTL)}
		s.chats.attachments[a.id] = a
		s.noteLocked(ctc, OpStartAttachmentUpload, "attachmentId="+a.id)
	}
	return map[string]any{
		"AttachmentId": a.id,
		"UploadMetadata": map[string]any{
			"Url":              s.presign(s.publicBase(c.r), http.MethodPut, a.id, a.created, attachmentURLTTL),
			"UrlExpiry":        isoTime(a.expires),
			"HeadersToInclude": map[string]string{"Content-Type": a.contentType},
		},
	}, nil
}

func (s *Sim) completeAttachmentUpload(c *call) (any, *apiError) {
	var in struct {
		AttachmentIds []string
		ClientToken   *string
	}
	token, e := c.participantInput(&in, func(ck *check) {
		if ck.required("AttachmentIds", in.AttachmentIds != nil) && len(in.AttachmentIds) != 1 {
			ck.fail("attachmentIds", "", "Member must have length between 1 and 1")
		}
		for _, id := range in.AttachmentIds {
			ck.length("AttachmentIds.member", &id, 1, 256)
		}
		ck.required("ClientToken", in.ClientToken != nil)
		ck.length("ClientToken", in.ClientToken, 1, 500)
	})
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	ctc, e := s.participantContactLocked(token)
	if e != nil {
		return nil, e
	}
	a := s.chats.attachments[in.AttachmentIds[0]]
	if a == nil || a.contactID != ctc.id {
		return nil, newErr(errValidation, "AttachmentId %s is not an attachment of this participant", quoteValue(in.AttachmentIds[0]))
	}
	switch {
	case a.status == AttachmentCompleted:
		return struct{}{}, nil // confirming twice is harmless
	case a.status == AttachmentStarted && s.clock.Now().After(a.expires):
		return nil, newErr(errValidation, "The upload URL of attachment %s expired before the file was uploaded", a.id)
	case a.status == AttachmentStarted:
		// "A conflict exception is thrown when an attachment with that identifier is already
		// being uploaded."
		return nil, newErr(errConflict, "Attachment %s is still being uploaded: PUT the file to the upload URL first", a.id)
	case int64(len(a.data)) != a.size:
		return nil, newErr(errValidation, "The uploaded file has %d bytes, not the %d declared by StartAttachmentUpload", len(a.data), a.size)
	}
	a.status = AttachmentCompleted
	s.noteLocked(ctc, OpCompleteAttachmentUpload, "attachmentId="+a.id)
	return struct{}{}, nil
}

func (s *Sim) getAttachment(c *call) (any, *apiError) {
	var in struct {
		AttachmentId       *string
		UrlExpiryInSeconds *int64
	}
	token, e := c.participantInput(&in, func(ck *check) {
		ck.required("AttachmentId", in.AttachmentId != nil)
		ck.length("AttachmentId", in.AttachmentId, 1, 256)
		ck.intRange("UrlExpiryInSeconds", in.UrlExpiryInSeconds, 5, 300)
	})
	if e != nil {
		return nil, e
	}
	ttl := attachmentURLTTL
	if in.UrlExpiryInSeconds != nil {
		ttl = time.Duration(*in.UrlExpiryInSeconds) * time.Second
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	ctc, e := s.participantContactLocked(token)
	if e != nil {
		return nil, e
	}
	a := s.chats.attachments[*in.AttachmentId]
	if a == nil || a.contactID != ctc.id {
		return nil, newErr(errValidation, "AttachmentId %s is not an attachment of this participant", quoteValue(*in.AttachmentId))
	}
	if a.status != AttachmentCompleted {
		return nil, newErr(errValidation, "Attachment %s is not complete: call CompleteAttachmentUpload first", a.id)
	}
	now := s.clock.Now()
	return map[string]any{
		"Url":                   s.presign(s.publicBase(c.r), http.MethodGet, a.id, now, ttl),
		"UrlExpiry":             isoTime(now.Add(ttl)),
		"AttachmentSizeInBytes": a.size,
	}, nil
}

// storeError answers as S3 does: an XML error document.
func storeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>\n",
		code, msg, w.Header().Get("X-Amzn-RequestId"))
}

// serveAttachmentStore serves the pre-signed URLs: PUT uploads an attachment's bytes, GET
// downloads a completed attachment. A browser calls them across origins, so they speak CORS.
func (s *Sim) serveAttachmentStore(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != "" && allowCORS(w, r, "GET, PUT", "Content-Type", "ETag") {
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/attachment-store/")
	q := r.URL.Query()
	if r.Method != http.MethodPut && r.Method != http.MethodGet {
		storeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	date, expires := q.Get("X-Amz-Date"), q.Get("X-Amz-Expires")
	signed, err1 := time.Parse("20060102T150405Z", date)
	secs, err2 := strconv.Atoi(expires)
	s.mu.Lock()
	want := s.storeSignature(r.Method, id, date, expires)
	s.mu.Unlock()
	if err1 != nil || err2 != nil || !hmac.Equal([]byte(want), []byte(q.Get("X-Amz-Signature"))) {
		storeError(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	if s.clock.Now().After(signed.Add(time.Duration(secs) * time.Second)) {
		storeError(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	s.mu.Lock()
	a := s.chats.attachments[id]
	var size int64
	var ct string
	if a != nil {
		size, ct = a.size, a.contentType
	}
	s.mu.Unlock()
	if a == nil {
		storeError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	if r.Method == http.MethodGet {
		s.mu.Lock()
		data := a.data
		s.mu.Unlock()
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
		return
	}
	if r.Header.Get("Content-Type") != ct {
		// Content-Type is a signed header of the upload URL (HeadersToInclude).
		storeError(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided: send the headers to include (Content-Type).")
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, size+1))
	if err != nil {
		storeError(w, http.StatusBadRequest, "IncompleteBody", "The request body could not be read.")
		return
	}
	if int64(len(data)) > size {
		storeError(w, http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the size declared to StartAttachmentUpload.")
		return
	}
	s.mu.Lock()
	if a.status == AttachmentStarted {
		a.data, a.status = data, AttachmentUploaded
	}
	s.mu.Unlock()
	sum := md5.Sum(data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	w.WriteHeader(http.StatusOK)
}
