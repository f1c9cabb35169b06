// A Node.js handler that does nothing: it answers {"result":"ok"} to any event. bench/cmd/flowbench
// -fn noop compares it with bench/cmd/noopfn, to show the floor the Runtime API exchange itself puts
// under every warm invocation.
export async function handler() {
  return { result: "ok" };
}
