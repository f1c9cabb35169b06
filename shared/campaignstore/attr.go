package campaignstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func ms(t time.Time) types.AttributeValue { return num(t.UnixMilli()) }

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func getTime(item map[string]types.AttributeValue, name string) time.Time {
	n := getN(item, name)
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

func getBool(item map[string]types.AttributeValue, name string) bool {
	if v, ok := item[name].(*types.AttributeValueMemberBOOL); ok {
		return v.Value
	}
	return false
}

// The lists and maps of an item (a recipient's outcomes, the ledger's dial times, attributes) go
// through the SDK's attributevalue package. A nil slice or map is written as an empty list or map,
// never as NULL: updates append to the lists with list_append, which refuses a NULL.

func strMap(m map[string]string) types.AttributeValue {
	if m == nil {
		m = map[string]string{}
	}
	return marshal(m)
}

func getStrMap(item map[string]types.AttributeValue, name string) map[string]string {
	var out map[string]string
	if unmarshal(item, name, &out) && len(out) > 0 {
		return out
	}
	return nil
}

func strList(ss []string) types.AttributeValue { return list(ss) }

func getStrList(item map[string]types.AttributeValue, name string) []string {
	return getList[string](item, name)
}

func numList(ns []int64) types.AttributeValue { return list(ns) }

func getNumList(item map[string]types.AttributeValue, name string) []int64 {
	return getList[int64](item, name)
}

func list[T string | int64](v []T) types.AttributeValue {
	if v == nil {
		v = []T{}
	}
	return marshal(v)
}

func getList[T string | int64](item map[string]types.AttributeValue, name string) []T {
	var out []T
	if !unmarshal(item, name, &out) {
		return nil
	}
	return out
}

// marshal cannot fail for the strings, numbers and their lists and maps the store writes.
func marshal(v any) types.AttributeValue {
	av, err := attributevalue.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("campaignstore: marshal %T: %v", v, err))
	}
	return av
}

// unmarshal reads the attribute name into out; false when it is missing or of another shape.
func unmarshal(item map[string]types.AttributeValue, name string, out any) bool {
	av, ok := item[name]
	return ok && attributevalue.Unmarshal(av, out) == nil
}

// indexTimeKey is the sort key of an entry of the due and inflight indexes: the instant in epoch
// milliseconds, zero-padded so that strings sort as the instants do, then the recipient, so that no
// two entries share a key (see the package comment for why that matters to dynalite).
func indexTimeKey(t time.Time, recipientID string) types.AttributeValue {
	return str(fmt.Sprintf("%015d#%s", t.UnixMilli(), recipientID))
}

// indexTimeBound is the smallest sort key of an entry at an instant after t: entries at or before
// t sort below it.
func indexTimeBound(t time.Time) types.AttributeValue {
	return str(fmt.Sprintf("%015d", t.UnixMilli()+1))
}

// indexTime reads the instant of an index sort key ("" or malformed: zero time).
func indexTime(item map[string]types.AttributeValue, name string) time.Time {
	v := getS(item, name)
	i := strings.IndexByte(v, '#')
	if i <= 0 {
		return time.Time{}
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}
