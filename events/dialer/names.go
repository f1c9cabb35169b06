package dialer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// checkNames walks a detail's JSON alongside the Go type it decodes into and refuses what
// encoding/json would accept silently: a name given twice in one object (json keeps the last), and
// a field name that matches a field only without regard to case ("Phone" for "phone": json takes
// it, and with both, one of the two values is dropped). Keys of maps (attributes, weekdays) are
// data: only their repetition is refused. Decode runs it before decoding, on Switchboard's own
// events; Connect's are decoded tolerantly.
func checkNames(raw []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return walkNames(dec, t, "")
}

func walkNames(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: its type is json's to check
	}
	switch delim {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if err := walkNames(dec, elem, path+"[]"); err != nil {
				return err
			}
		}
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			name, _ := kt.(string)
			key := name
			var next reflect.Type
			switch {
			case t != nil && t.Kind() == reflect.Struct:
				f, exact := field(t, name)
				if f != nil && !exact {
					return fmt.Errorf("field %s: names are case-sensitive: %q", join(path, safetext.Truncate(name, 64)), jsonName(*f))
				}
				if f != nil {
					next = f.Type
				}
				key = strings.ToLower(name)
			case t != nil && t.Kind() == reflect.Map:
				next = t.Elem()
			}
			if seen[key] {
				return fmt.Errorf("field %s is given twice", join(path, safetext.Truncate(name, 64)))
			}
			seen[key] = true
			if err := walkNames(dec, next, join(path, safetext.Truncate(name, 64))); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// field finds the struct field a JSON name decodes into, and whether the name matched exactly.
func field(t reflect.Type, name string) (*reflect.StructField, bool) {
	var fold *reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if inner, exact := field(f.Type, name); inner != nil && (exact || fold == nil) {
				if exact {
					return inner, true
				}
				fold = inner
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		n := jsonName(f)
		if n == "-" {
			continue
		}
		if n == name {
			return &f, true
		}
		if fold == nil && strings.EqualFold(n, name) {
			fold = &f
		}
	}
	return fold, false
}

func jsonName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if tag == "" {
		return f.Name
	}
	return tag
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
