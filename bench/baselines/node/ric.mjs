// A minimal stand-in for the Lambda runtime interface client (the real aws-lambda-nodejs RIC
// is a native addon that cannot be installed here): load the handler module named by _HANDLER
// ("index.handler"), then poll the Runtime API at AWS_LAMBDA_RUNTIME_API forever, one
// invocation at a time, with node:http and a keep-alive connection as the real client does.
// Routes: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, route, body) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) };
    const req = http.request({ host, port, method, agent, headers, path: "/2018-06-01/runtime" + route }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const errorDoc = (err) => JSON.stringify({ errorType: err?.name ?? "Error", errorMessage: String(err?.message ?? err) });

let handler;
try {
  const [file, name] = (process.env._HANDLER ?? "index.handler").split(".");
  const mod = await import(pathToFileURL(path.resolve(process.env.LAMBDA_TASK_ROOT ?? ".", file + ".mjs")).href);
  handler = mod[name];
  if (typeof handler !== "function") throw new Error(`${process.env._HANDLER} is not a function`);
} catch (err) {
  await call("POST", "/init/error", errorDoc(err));
  process.exit(1);
}

for (;;) {
  const next = await call("GET", "/invocation/next");
  const id = next.headers["lambda-runtime-aws-request-id"];
  const deadline = Number(next.headers["lambda-runtime-deadline-ms"]);
  const context = {
    awsRequestId: id,
    invokedFunctionArn: next.headers["lambda-runtime-invoked-function-arn"],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  try {
    const out = await handler(JSON.parse(next.body), context);
    await call("POST", `/invocation/${id}/response`, JSON.stringify(out));
  } catch (err) {
    await call("POST", `/invocation/${id}/error`, errorDoc(err));
  }
}
