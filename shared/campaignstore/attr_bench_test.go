package campaignstore

import (
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The store's lists went from hand-written marshalling to the SDK's attributevalue: the cost of
// a recipient's longest list (100 outcomes) and of a ledger's dial times both ways, against a
// write's round trip of milliseconds (docs/performance.md).
func BenchmarkListMarshal(b *testing.B) {
	outcomes := make([]string, 100)
	dials := make([]int64, 100)
	for i := range outcomes {
		outcomes[i] = "no_answer"
		dials[i] = 1_760_000_000_000 + int64(i)
	}
	b.Run("attributevalue/strings", func(b *testing.B) {
		for b.Loop() {
			_ = getStrList(map[string]types.AttributeValue{"l": strList(outcomes)}, "l")
		}
	})
	b.Run("hand/strings", func(b *testing.B) {
		for b.Loop() {
			l := make([]types.AttributeValue, len(outcomes))
			for i, s := range outcomes {
				l[i] = &types.AttributeValueMemberS{Value: s}
			}
			out := make([]string, 0, len(l))
			for _, v := range l {
				out = append(out, v.(*types.AttributeValueMemberS).Value)
			}
		}
	})
	b.Run("attributevalue/numbers", func(b *testing.B) {
		for b.Loop() {
			_ = getNumList(map[string]types.AttributeValue{"l": numList(dials)}, "l")
		}
	})
	b.Run("hand/numbers", func(b *testing.B) {
		for b.Loop() {
			l := make([]types.AttributeValue, len(dials))
			for i, n := range dials {
				l[i] = &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
			}
			out := make([]int64, 0, len(l))
			for _, v := range l {
				n, _ := strconv.ParseInt(v.(*types.AttributeValueMemberN).Value, 10, 64)
				out = append(out, n)
			}
		}
	})
}

// Round trips keep the values, and an empty list is written as a list (list_append needs one).
func TestListsRoundTrip(t *testing.T) {
	if got := getStrList(map[string]types.AttributeValue{"l": strList([]string{"a", "b"})}, "l"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("strings: %v", got)
	}
	if got := getNumList(map[string]types.AttributeValue{"l": numList([]int64{-1, 1 << 50})}, "l"); len(got) != 2 || got[0] != -1 || got[1] != 1<<50 {
		t.Errorf("numbers: %v", got)
	}
	if l, ok := strList(nil).(*types.AttributeValueMemberL); !ok || len(l.Value) != 0 {
		t.Errorf("nil list written as %#v", strList(nil))
	}
	if m, ok := strMap(nil).(*types.AttributeValueMemberM); !ok || len(m.Value) != 0 {
		t.Errorf("nil map written as %#v", strMap(nil))
	}
	if got := getStrList(map[string]types.AttributeValue{"l": &types.AttributeValueMemberS{Value: "x"}}, "l"); got != nil {
		t.Errorf("a string read as a list: %v", got)
	}
}
