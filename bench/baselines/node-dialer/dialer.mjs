// The outbound dialer's idle tick as a team would write it in Node.js 20 with AWS SDK v3,
// equivalent to Switchboard's functions/dialer for what the benchmark measures: the Connect,
// DynamoDB and S3 clients built at init, and an EventBridge Scheduler tick ("Dialer Tick") when no
// campaign is active: the envelope checked, the tick lease taken with the same conditional PutItem,
// the active-campaigns index queried, the lease released with the same conditional DeleteItem, one
// JSON log line. It dials nothing: a tick that finds an active campaign throws, so a benchmark run
// can only measure the idle path it claims to. bench/cmd/flowbench runs it under ric.mjs with
// _HANDLER=dialer.handler.
import { ConnectClient } from "@aws-sdk/client-connect";
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";

export const connect = new ConnectClient({});
const dynamo = new DynamoDBClient({});
export const s3 = new S3Client({});
const table = process.env.CAMPAIGNS_TABLE;
if (!table) throw new Error("CAMPAIGNS_TABLE is required");
const owner = process.env.AWS_LAMBDA_LOG_STREAM_NAME || `pid-${process.pid}`;
const LEASE_TTL_MS = 90_000;
const lease = { pk: { S: "L#dialer-tick" }, sk: { S: "L" } };

export async function handler(event) {
  if (event?.source !== "switchboard" || event?.["detail-type"] !== "Dialer Tick") throw new Error("not a dialer tick");
  const scheduled = Date.parse(event?.detail?.scheduledTime ?? "");
  if (Number.isNaN(scheduled)) throw new Error("detail.scheduledTime is not an RFC 3339 time");
  const now = Date.now();
  try {
    await dynamo.send(new PutItemCommand({
      TableName: table, Item: { ...lease, owner: { S: owner }, expires_at: { N: String(now + LEASE_TTL_MS) } },
      ConditionExpression: "attribute_not_exists(pk) OR #e < :now OR #o = :me",
      ExpressionAttributeNames: { "#e": "expires_at", "#o": "owner" },
      ExpressionAttributeValues: { ":now": { N: String(now) }, ":me": { S: owner } },
    }));
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return null;
    throw err;
  }
  try {
    const out = await dynamo.send(new QueryCommand({
      TableName: table, IndexName: "active", KeyConditionExpression: "#ap = :ap",
      ExpressionAttributeNames: { "#ap": "active_pk" }, ExpressionAttributeValues: { ":ap": { S: "ACTIVE" } },
    }));
    if ((out.Items ?? []).length > 0) throw new Error("an active campaign: this baseline only measures the idle tick");
  } finally {
    try {
      await dynamo.send(new DeleteItemCommand({
        TableName: table, Key: lease, ConditionExpression: "#o = :me",
        ExpressionAttributeNames: { "#o": "owner" }, ExpressionAttributeValues: { ":me": { S: owner } },
      }));
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
  console.log(JSON.stringify({ level: "INFO", msg: "tick", scheduled_time: new Date(scheduled).toISOString(), campaigns: 0 }));
  return null;
}
