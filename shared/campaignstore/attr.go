package campaignstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

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

func strMap(m map[string]string) types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = str(v)
	}
	return &types.AttributeValueMemberM{Value: out}
}

func getStrMap(item map[string]types.AttributeValue, name string) map[string]string {
	m, ok := item[name].(*types.AttributeValueMemberM)
	if !ok || len(m.Value) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.Value))
	for k, v := range m.Value {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			out[k] = s.Value
		}
	}
	return out
}

func strList(ss []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(ss))
	for i, s := range ss {
		l[i] = str(s)
	}
	return &types.AttributeValueMemberL{Value: l}
}

func getStrList(item map[string]types.AttributeValue, name string) []string {
	l, ok := item[name].(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l.Value))
	for _, v := range l.Value {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			out = append(out, s.Value)
		}
	}
	return out
}

func numList(ns []int64) types.AttributeValue {
	l := make([]types.AttributeValue, len(ns))
	for i, n := range ns {
		l[i] = num(n)
	}
	return &types.AttributeValueMemberL{Value: l}
}

func getNumList(item map[string]types.AttributeValue, name string) []int64 {
	l, ok := item[name].(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]int64, 0, len(l.Value))
	for _, v := range l.Value {
		if s, ok := v.(*types.AttributeValueMemberN); ok {
			n, _ := strconv.ParseInt(s.Value, 10, 64)
			out = append(out, n)
		}
	}
	return out
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
