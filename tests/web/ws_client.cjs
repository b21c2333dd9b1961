// A WebSocket client: collects N updates from /ws and prints their arrival times and shapes.
//   node ws_client.cjs URL N
const WebSocket = require("ws");

const [url, count] = [process.argv[2], Number(process.argv[3])];
const got = [];
const ws = new WebSocket(url);
const timer = setTimeout(() => { console.log(JSON.stringify({ ok: false, got: got.length })); process.exit(1); }, 30000);
ws.on("message", (data) => {
  const u = JSON.parse(data.toString());
  got.push({ at: Date.now() / 1000, t: u.t, type: u.type, scans: u.scans, keys: Object.keys(u).sort() });
  if (got.length >= count) {
    clearTimeout(timer);
    console.log(JSON.stringify({ ok: true, updates: got }));
    ws.close();
  }
});
ws.on("error", (e) => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(1); });
