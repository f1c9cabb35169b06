// Package connectspec holds what Amazon Connect's API reference and service model say about the
// values Switchboard sends and receives: the limits of contact attributes, the shapes of
// contact, instance and flow identifiers, name lengths and ring times. The contact-flow
// function, the dialer's events and connectsim all check against it, so the functions and the
// emulator cannot drift apart.
//
// Sources, cited beside each value:
//   - [model]: the service model botocore/data/connect/2017-08-08/service-2.json (boto/botocore,
//     read at commit 0e6e2404, 2026-08-07), the shapes named beside each constant.
//   - [ref]: the Amazon Connect API reference, StartOutboundVoiceContact and
//     UpdateContactAttributes: "There can be up to 32,768 UTF-8 bytes across all key-value pairs
//     per contact. Attribute keys can include only alphanumeric, dash, and underscore
//     characters." (also in the SDK's doc comment of StartOutboundVoiceContactInput.Attributes).
package connectspec

import "strings"

// Contact attributes.
const (
	// MaxAttributeBytes is the most UTF-8 bytes of all keys and values of one contact [ref].
	MaxAttributeBytes = 32768
	// MaxAttributeKeyLength is the longest attribute key: shape AttributeName, min 1, max 32767
	// [model]. Keys are ASCII, so characters and bytes agree.
	MaxAttributeKeyLength = 32767
	// MaxAttributeValueLength is the longest value: shape AttributeValue, max 32767 [model].
	MaxAttributeValueLength = 32767
)

// ValidAttributeKey reports whether k can be a contact attribute key: 1 to
// MaxAttributeKeyLength of letters, digits, _ and - [model][ref].
func ValidAttributeKey(k string) bool {
	return k != "" && len(k) <= MaxAttributeKeyLength && allBytes(k, func(c byte) bool { return isAlnum(c) || c == '_' || c == '-' })
}

// MergedAttributeBytes is the size a contact's attributes will have once update is written over
// existing, as Connect counts it: the UTF-8 bytes of keys and values; a key in both counts once,
// with its new value, and a key updated to "" counts nothing, since Connect removes an attribute
// whose value is empty (the documented way to make room under the limit).
func MergedAttributeBytes(existing, update map[string]string) int {
	n := 0
	for k, v := range update {
		if v != "" {
			n += len(k) + len(v)
		}
	}
	for k, v := range existing {
		if _, ok := update[k]; !ok {
			n += len(k) + len(v)
		}
	}
	return n
}

// Identifiers and names.
const (
	// MaxContactIDLength: shape ContactId, min 1, max 256 [model].
	MaxContactIDLength = 256
	// MaxInstanceIDLength: shape InstanceId, min 1, max 100 [model].
	MaxInstanceIDLength = 100
	// MaxContactFlowIDLength: shape ContactFlowId, max 500 [model].
	MaxContactFlowIDLength = 500
	// MaxQueueIDLength: shape QueueId has no length in the model; Switchboard holds it to the
	// flow ID's 500 (a queue ID is a UUID or an ARN in practice).
	MaxQueueIDLength = 500
	// MaxClientTokenLength: shape ClientToken, max 500 [model]; a token is valid 7 days [ref].
	MaxClientTokenLength = 500
	// MaxCampaignIDLength: shape CampaignId, min 1, max 100 [model].
	MaxCampaignIDLength = 100
	// MaxNameLength: shape Name of StartOutboundVoiceContact. The model read here has max 1024;
	// the one connectsim was first built from had 512 (local/connectsim's
	// TestStartOutboundVoiceContactNameLength). Switchboard keeps the stricter 512, so that
	// nothing passes locally that an endpoint on the older model refuses.
	MaxNameLength = 512
	// MaxDescriptionLength: shape Description, max 4096 [model].
	MaxDescriptionLength = 4096
)

// Ring time of an outbound call: shape RingTimeoutInSeconds, min 15, max 60 [model].
const (
	MinRingTimeoutSeconds = 15
	MaxRingTimeoutSeconds = 60
)

// ValidContactID reports whether s is what Switchboard accepts as a Connect contact ID: 1 to
// MaxContactIDLength letters, digits and dashes (the model bounds only the length; contact IDs
// are UUIDs in practice, and nothing else may reach a log line or a table key).
func ValidContactID(s string) bool {
	return s != "" && len(s) <= MaxContactIDLength && allBytes(s, isIDByte)
}

// ValidInstanceID reports whether s can be an instance ID: 1 to MaxInstanceIDLength letters,
// digits and dashes.
func ValidInstanceID(s string) bool {
	return s != "" && len(s) <= MaxInstanceIDLength && allBytes(s, isIDByte)
}

// InstanceIDFromARN returns the ID of a Connect instance ARN,
// arn:aws[a-z-]*:connect:[a-z0-9-]+:[0-9]{12}:instance/[-a-zA-Z0-9]{1,100}. It is written out
// rather than a regexp: the bounded repetitions compile to hundreds of instructions at package
// init, a cost every cold start paid (GODEBUG=inittrace=1).
func InstanceIDFromARN(arn string) (string, bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "connect" {
		return "", false
	}
	partition, ok := strings.CutPrefix(f[1], "aws")
	if !ok || !allBytes(partition, isLowerOrDash) || f[3] == "" || !allBytes(f[3], isLowerDigitOrDash) ||
		len(f[4]) != 12 || !allBytes(f[4], isDigit) {
		return "", false
	}
	id, ok := strings.CutPrefix(f[5], "instance/")
	if !ok || !ValidInstanceID(id) {
		return "", false
	}
	return id, true
}

func isIDByte(c byte) bool           { return isAlnum(c) || c == '-' }
func isDigit(c byte) bool            { return '0' <= c && c <= '9' }
func isLowerOrDash(c byte) bool      { return 'a' <= c && c <= 'z' || c == '-' }
func isLowerDigitOrDash(c byte) bool { return isLowerOrDash(c) || isDigit(c) }
func isAlnum(c byte) bool            { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
