package dynalitetest

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The adapters rely on conditional writes: prove this dynalite enforces them through the real SDK.
func TestConditionalWriteIsEnforced(t *testing.T) {
	s := Start(t)
	s.CreateTable(t, &dynamodb.CreateTableInput{
		TableName:            aws.String("probe"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	put := &dynamodb.PutItemInput{
		TableName:           aws.String("probe"),
		Item:                map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}
	c := s.Client()
	if _, err := c.PutItem(context.Background(), put); err != nil {
		t.Fatalf("first put: %v", err)
	}
	_, err := c.PutItem(context.Background(), put)
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("second put: want ConditionalCheckFailedException, got %v", err)
	}
}
