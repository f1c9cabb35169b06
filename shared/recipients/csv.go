// Package recipients reads a campaign's recipients from a CSV object in S3, streamed and
// checkpointed: an import proceeds in chunks, each written before the checkpoint moves past it, so
// an import of a million rows spreads over as many invocations as it needs and resumes exactly
// where the last one stopped, and a chunk repeated after a crash writes nothing twice (the sink's
// writes are conditional). Every row ends up somewhere with a reason: as a recipient, as a
// recipient that is not dialable (a malformed row, a number that is not one), or in the import
// report (a repeated recipient ID, or a number an earlier row's recipient holds: the Sink's
// Outcome). Every read asks for one version of the object (ObjectVersion, read at the campaign's
// launch with Importer.Current), so that a checkpoint's byte offset means the same row to every
// invocation; an object replaced where S3 keeps no earlier version stops the import.
//
// # CSV format
//
// UTF-8, comma-separated, RFC 4180 quoting, a header row. Columns, in any order:
//
//	phone          required: E.164, or national in the campaign's default region
//	recipient_id   optional: 1-128 of [A-Za-z0-9_.:-], unique in the campaign (default: row-<n>,
//	               n counting data rows from 1)
//	time_zone      optional: an IANA zone that wins over the number's own zones
//	anything else  a contact attribute passed to the flow (name: [A-Za-z0-9_-], 1-128 bytes)
package recipients

import (
	"errors"
	"fmt"
	"strings"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// Column names with a meaning of their own.
const (
	ColPhone       = "phone"
	ColRecipientID = "recipient_id"
	ColTimeZone    = "time_zone"
)

// Limits of one row.
const (
	MaxColumns    = 64
	MaxFieldBytes = 4096
	MaxRowBytes   = 32 * 1024
)

// Header is the parsed header row.
type Header struct {
	Names    []string
	phone    int
	id, zone int // -1 when absent
}

// ParseHeader checks the header row.
func ParseHeader(fields []string) (Header, error) {
	h := Header{Names: fields, phone: -1, id: -1, zone: -1}
	if len(fields) > MaxColumns {
		return h, fmt.Errorf("header has %d columns, at most %d", len(fields), MaxColumns)
	}
	seen := map[string]bool{}
	for i, raw := range fields {
		name := strings.TrimSpace(raw)
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // a byte-order mark from spreadsheet exports
		}
		h.Names[i] = name
		if seen[name] {
			return h, fmt.Errorf("header names column %q twice", name)
		}
		seen[name] = true
		switch name {
		case ColPhone:
			h.phone = i
		case ColRecipientID:
			h.id = i
		case ColTimeZone:
			h.zone = i
		default:
			if !dialerevents.ValidAttributeKey(name) {
				return h, fmt.Errorf("header column %d: %q is not an attribute name (letters, digits, _ and -, at most 128)", i+1, safetext.Truncate(name, 40))
			}
		}
	}
	if h.phone < 0 {
		return h, errors.New("header has no phone column")
	}
	return h, nil
}

// Row is one data row, read but not yet judged.
type Row struct {
	// Number counts data rows from 1.
	Number      int64
	RecipientID string
	Phone       string
	TimeZone    string
	Attributes  map[string]string
	// Problem is set for a row that cannot become a dialable recipient as written.
	Problem string
}

// Build turns one record into a Row; a record that does not fit the header gets a Problem.
func (h Header) Build(number int64, fields []string) Row {
	r := Row{Number: number, RecipientID: fmt.Sprintf("row-%d", number)}
	if len(fields) != len(h.Names) {
		r.Problem = fmt.Sprintf("malformed row: %d fields, the header has %d", len(fields), len(h.Names))
		return r
	}
	size := 0
	for i, f := range fields {
		size += len(f)
		if len(f) > MaxFieldBytes {
			r.Problem = fmt.Sprintf("column %q is %d bytes, at most %d", h.Names[i], len(f), MaxFieldBytes)
			return r
		}
	}
	if size > MaxRowBytes {
		r.Problem = fmt.Sprintf("row is %d bytes, at most %d", size, MaxRowBytes)
		return r
	}
	if h.id >= 0 {
		if id := strings.TrimSpace(fields[h.id]); id != "" {
			if !dialerevents.ValidID(id) {
				r.Problem = "recipient_id must be 1-128 of letters, digits and _ . : - (starting with a letter or digit)"
				return r
			}
			r.RecipientID = id
		}
	}
	r.Phone = strings.TrimSpace(fields[h.phone])
	if h.zone >= 0 {
		r.TimeZone = strings.TrimSpace(fields[h.zone])
	}
	for i, f := range fields {
		if i == h.phone || i == h.id || i == h.zone || f == "" {
			continue
		}
		if r.Attributes == nil {
			r.Attributes = map[string]string{}
		}
		r.Attributes[h.Names[i]] = f
	}
	if r.Phone == "" {
		r.Problem = "no phone number"
	}
	return r
}
