package contactflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// Event is the payload of Amazon Connect's "Invoke AWS Lambda function" block. Only the fields
// the function uses are typed; every other field is ignored, and values that Connect or a test
// console may send as numbers, booleans, null or nested JSON are accepted wherever a string is
// expected (aws-lambda-go's events.ConnectEvent fails on those).
type Event struct {
	Name    string       `json:"Name"`
	Details EventDetails `json:"Details"`
}

// EventDetails holds the contact and the block's parameters.
type EventDetails struct {
	ContactData ContactData `json:"ContactData"`
	// Parameters are the block's "Function input parameters" by name, each value as its raw
	// JSON: their values may be any JSON. A name appears once: Connect builds them from the
	// block's map (flow language: LambdaInvocationAttributes, "A map of additional data to send
	// to the AWS Lambda function"), so there is no repeated name to refuse.
	Parameters map[string]json.RawMessage `json:"Parameters"`
}

// ContactData describes the contact that runs the flow: the fields the function uses. Connect
// sends many more (Channel, Queue, SystemEndpoint, MediaStreams, ...), and adds new ones: they
// are ignored.
type ContactData struct {
	ContactID        Text      `json:"ContactId"`
	InitialContactID Text      `json:"InitialContactId"`
	InstanceARN      Text      `json:"InstanceARN"`
	CustomerEndpoint *Endpoint `json:"CustomerEndpoint"`
	// Attributes are the contact's attributes when the flow invoked the function.
	Attributes TextMap `json:"Attributes"`
}

// Endpoint is the customer's address.
type Endpoint struct {
	Address Text `json:"Address"`
	Type    Text `json:"Type"`
}

// EndpointTelephoneNumber is the Type of an Endpoint that holds a phone number.
const EndpointTelephoneNumber = "TELEPHONE_NUMBER"

// Text is a string that also accepts any other JSON value, as its JSON text ("42", "true",
// `{"a":1}`), and null as empty.
type Text string

// UnmarshalJSON accepts any JSON value.
func (t *Text) UnmarshalJSON(b []byte) error {
	s, err := ValueText(b)
	if err != nil {
		return err
	}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		s = ""
	}
	*t = Text(s)
	return nil
}

// TextMap is a string map that accepts any JSON value for each entry (see Text) and null for the
// whole map.
type TextMap map[string]string

// UnmarshalJSON accepts an object of any values, or null.
func (m *TextMap) UnmarshalJSON(b []byte) error {
	var raw map[string]Text
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*m = nil
		return nil
	}
	out := make(TextMap, len(raw))
	for k, v := range raw {
		out[k] = string(v)
	}
	*m = out
	return nil
}

// ValueText converts one JSON value to the string the function works with: a JSON string is
// unquoted, anything else (number, boolean, null, object, array) becomes its compact JSON text,
// exactly as written for numbers (no float rounding: "1.50" stays "1.50").
func ValueText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", errors.New("empty JSON value")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	if !json.Valid(raw) {
		return "", fmt.Errorf("invalid JSON value %s", strconv.Quote(safetext.Fit(string(raw), 40)))
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// DecodeEvent decodes a contact-flow invocation payload.
func DecodeEvent(payload []byte) (Event, error) {
	var ev Event
	if len(bytes.TrimSpace(payload)) == 0 {
		return ev, errors.New("empty payload")
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Event{}, fmt.Errorf("decode contact-flow event: %w", err)
	}
	return ev, nil
}
