// The contact-flow handler a team would write in Node.js 20 with AWS SDK v3, equivalent to
// Switchboard's functions/contactflow for what the benchmark measures: one client per service
// built at init, update (keys checked, the 32 KB budget checked against the event's own
// attributes, one UpdateContactAttributes call), get (one GetContactAttributes call) and a
// plain opt-out (E.164 only, one conditional PutItem). It answers a flat string map like the Go
// function. bench/cmd/flowbench runs it under ric.mjs.
import { ConnectClient, GetContactAttributesCommand, UpdateContactAttributesCommand } from "@aws-sdk/client-connect";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";

const connect = new ConnectClient({});
const dynamo = new DynamoDBClient({});
const table = process.env.DO_NOT_CALL_TABLE;

const CONTROL = new Set(["operation", "contact_id", "keys", "prefix", "reason", "phone_number"]);
const KEY = /^[A-Za-z0-9_-]+$/;
const ARN = /^arn:aws[a-z-]*:connect:[a-z0-9-]+:[0-9]{12}:instance\/([-a-zA-Z0-9]{1,100})$/;
const E164 = /^\+[1-9][0-9]{1,14}$/;
const MAX_ATTRIBUTE_BYTES = 32768;

const text = (v) => (typeof v === "string" ? v : JSON.stringify(v));
const fail = (code, message) => ({ result: "error", error_code: code, error_message: message });

function bytes(attrs) {
  let n = 0;
  for (const [k, v] of Object.entries(attrs)) if (v !== "") n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

export async function handler(event) {
  const cd = event?.Details?.ContactData ?? {};
  const params = event?.Details?.Parameters ?? {};
  const arn = ARN.exec(cd.InstanceARN ?? "");
  if (!arn) return fail("BAD_REQUEST", "the event has no instance ARN");
  const InstanceId = arn[1];
  const InitialContactId = text(params.contact_id ?? "") || cd.InitialContactId || cd.ContactId;
  const op = text(params.operation ?? "update").toLowerCase() || "update";
  try {
    switch (op) {
      case "update": {
        const Attributes = {};
        for (const [k, v] of Object.entries(params)) {
          if (CONTROL.has(k)) continue;
          if (!KEY.test(k)) return fail("INVALID_KEY", "attribute keys may only have letters, digits, _ and -");
          Attributes[k] = text(v);
        }
        if (Object.keys(Attributes).length === 0) return fail("BAD_REQUEST", "nothing to write");
        if (bytes({ ...(cd.Attributes ?? {}), ...Attributes }) > MAX_ATTRIBUTE_BYTES) return fail("ATTRIBUTES_TOO_LARGE", "over 32768 bytes");
        await connect.send(new UpdateContactAttributesCommand({ InstanceId, InitialContactId, Attributes }));
        return { result: "ok", count: String(Object.keys(Attributes).length) };
      }
      case "get": {
        const keys = text(params.keys ?? "").split(",").map((k) => k.trim()).filter(Boolean);
        const out = await connect.send(new GetContactAttributesCommand({ InstanceId, InitialContactId }));
        const resp = { result: "ok" };
        for (const k of keys) if (k in (out.Attributes ?? {})) resp[k] = out.Attributes[k];
        resp.count = String(Object.keys(resp).length - 1);
        return resp;
      }
      case "optout": {
        const number = text(params.phone_number ?? "") || cd.CustomerEndpoint?.Address || "";
        if (!E164.test(number)) return fail("INVALID_PHONE_NUMBER", "not an E.164 number");
        try {
          await dynamo.send(new PutItemCommand({
            TableName: table,
            Item: { phone: { S: number }, source: { S: "contact-flow" }, recorded_at: { S: new Date().toISOString() } },
            ConditionExpression: "attribute_not_exists(phone)",
          }));
          return { result: "ok", optout_status: "recorded" };
        } catch (err) {
          if (err.name === "ConditionalCheckFailedException") return { result: "ok", optout_status: "already_recorded" };
          throw err;
        }
      }
      default:
        return fail("BAD_REQUEST", "unknown operation");
    }
  } catch (err) {
    if (err.name === "ResourceNotFoundException") return fail("CONTACT_NOT_FOUND", "no such contact");
    if (err.name === "ThrottlingException" || err.name === "TooManyRequestsException") return fail("THROTTLED", "throttled");
    return fail("CONNECT_UNAVAILABLE", "Connect failed");
  }
}
