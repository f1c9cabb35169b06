package contactflow

// MaxAttributeBytes is Connect's limit on one contact's attributes: the UTF-8 bytes of every key
// and value together.
const MaxAttributeBytes = 32768

// ValidKey reports whether k can be a contact attribute key: one or more of [A-Za-z0-9_-].
func ValidKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// MergedBytes is the size the contact's attributes will have once update is written over
// existing: a key in both counts once, with its new value, and a key updated to "" counts
// nothing, since Connect removes an attribute whose value is empty (the documented way to make
// room under the limit).
func MergedBytes(existing, update map[string]string) int {
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
