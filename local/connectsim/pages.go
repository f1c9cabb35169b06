package connectsim

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Pagination of the List operations: MaxResults (query maxResults, 1-1000, default 100 as the
// reference says for each of them) and an opaque NextToken (query nextToken) that names the
// operation and the last key answered, so that a page goes on after it even when items were
// added or removed meanwhile.

// listed is one item of a list with its sort key.
type listed struct {
	key  string
	item any
}

// listOf answers a List operation on the instance of the path: items sorted by key, one page.
func listOf(s *Sim, c *call, member string, items func(inst *Instance) []listed) (any, *apiError) {
	instID := c.params["InstanceId"]
	q := c.r.URL.Query()
	var ck check
	ck.length("InstanceId", &instID, 1, 100)
	limit := int64(100)
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, newErr(errSerialization, "Cannot deserialize member \"maxResults\": %s is not an integer", quoteValue(v))
		}
		ck.intRange("maxResults", &n, 1, 1000)
		limit = n
	}
	token := q.Get("nextToken")
	ck.length("nextToken", &token, 0, 2048)
	if e := ck.err(); e != nil {
		return nil, e
	}
	inst, e := s.instanceOrErr(instID)
	if e != nil {
		return nil, e
	}
	after, e := decodeNextToken(c.op, token)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	all := items(inst)
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].key < all[j].key })
	start := sort.Search(len(all), func(i int) bool { return all[i].key > after })
	if token == "" {
		start = 0
	}
	end := min(start+int(limit), len(all))
	page := make([]any, 0, end-start)
	for _, l := range all[start:end] {
		page = append(page, l.item)
	}
	out := map[string]any{member: page}
	if end < len(all) {
		out["NextToken"] = encodeNextToken(c.op, all[end-1].key)
	}
	return out, nil
}

func encodeNextToken(op, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("connectsim/" + op + "/" + url.PathEscape(key)))
}

// decodeNextToken returns the last key of the previous page ("" for none).
func decodeNextToken(op, token string) (string, *apiError) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	prefix := "connectsim/" + op + "/"
	if err != nil || !strings.HasPrefix(string(b), prefix) {
		return "", newErr(errInvalidParameter, "NextToken is not valid: it must come from a previous %s answer", op)
	}
	key, err := url.PathUnescape(strings.TrimPrefix(string(b), prefix))
	if err != nil {
		return "", newErr(errInvalidParameter, "NextToken is not valid: it must come from a previous %s answer", op)
	}
	return key, nil
}
