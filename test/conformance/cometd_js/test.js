// Conformance: sfsim driven by the official CometD JavaScript client (npm "cometd" with
// "cometd-nodejs-client"), a client nobody here wrote. It handshakes, subscribes to a PushTopic
// with a replay id, receives the events of records created through REST, loses its session
// (sfsim forgets every client), re-handshakes and resumes from the last replay id it processed,
// and must see every event exactly once, in order.
//
// Usage: node test.js PATH_TO_SFSIM
import { adapt } from "cometd-nodejs-client";
import { CometD, Extension } from "cometd";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

adapt();

const sfsimPath = process.argv[2];
if (!sfsimPath) {
    console.error("usage: node test.js PATH_TO_SFSIM");
    process.exit(2);
}

const failures = [];
let passed = 0;
function check(ok, what) {
    if (ok) {
        passed++;
    } else {
        failures.push(what);
        console.error("FAILED: " + what);
    }
}

function startSfsim() {
    return new Promise((resolve, reject) => {
        const child = spawn(sfsimPath, ["--listen", "127.0.0.1:0", "--connect-timeout", "2000"],
            { stdio: ["ignore", "pipe", "inherit"] });
        const lines = createInterface({ input: child.stdout });
        lines.on("line", (line) => {
            const m = /^listening on (\S+)/.exec(line);
            if (m) resolve({ child, url: m[1] });
        });
        child.on("exit", (code) => reject(new Error("sfsim exited with " + code)));
    });
}

async function rest(base, token, method, path, body) {
    const r = await fetch(base + path, {
        method,
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
}

// Salesforce's replay extension, as its documentation describes it: ext.replay=true on the
// handshake, and on every subscribe the replay id to resume from, per channel. The id is the
// last one the application *processed*, which it records itself.
class ReplayExtension extends Extension {
    constructor(replayIds) {
        super();
        this.replayIds = replayIds;
    }
    outgoing(message) {
        if (message.channel === "/meta/handshake") {
            message.ext = Object.assign(message.ext || {}, { replay: true });
        } else if (message.channel === "/meta/subscribe") {
            const id = this.replayIds.get(message.subscription);
            message.ext = Object.assign(message.ext || {},
                { replay: { [message.subscription]: id === undefined ? -1 : id } });
        }
        return message;
    }
}

const withTimeout = (promise, ms, what) => Promise.race([promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error("timed out: " + what)), ms))]);

async function main() {
    const { child, url } = await startSfsim();
    try {
        const form = new URLSearchParams({
            grant_type: "password", client_id: "sfsim-client-id",
            client_secret: "sfsim-client-secret", username: "integration@sfsim.test",
            password: "sfsim-password",
        });
        const auth = await (await fetch(url + "/services/oauth2/token", { method: "POST", body: form })).json();
        check(typeof auth.access_token === "string", "the password grant gives a token");
        const token = auth.access_token;

        const topic = await rest(url, token, "POST", "/services/data/v60.0/sobjects/PushTopic", {
            Name: "hc_Contact", Query: "SELECT Id, LastName FROM Contact", ApiVersion: 60.0,
            NotifyForFields: "Referenced",
        });
        check(topic.status === 201, "the PushTopic is created");

        const channel = "/topic/hc_Contact";
        const replayIds = new Map();
        const received = [];
        let handshakes = 0;
        let waiter = null;

        const cometd = new CometD();
        cometd.unregisterTransport("websocket");
        cometd.registerExtension("replay", new ReplayExtension(replayIds));
        cometd.configure({
            url: url + "/cometd/60.0",
            requestHeaders: { Authorization: "Bearer " + token },
            appendMessageTypeToURL: false,
            logLevel: "warn",
        });
        // Subscriptions do not survive a re-handshake: subscribe again each time, from the last
        // processed replay id (the extension adds it).
        cometd.addListener("/meta/handshake", (reply) => {
            if (!reply.successful) return;
            handshakes++;
            cometd.subscribe(channel, (event) => {
                received.push(event.data.sobject.LastName);
                replayIds.set(channel, event.data.event.replayId);
                if (waiter && received.length >= waiter.count) waiter.resolve();
            }, (sub) => check(sub.successful, "subscribe #" + handshakes + " succeeds"));
        });
        const until = (count) => new Promise((resolve) => {
            waiter = { count, resolve };
            if (received.length >= count) resolve();
        });

        await withTimeout(new Promise((resolve, reject) => cometd.handshake((reply) => {
            if (reply.successful) resolve(); else reject(new Error(JSON.stringify(reply)));
        })), 10000, "handshake");
        check(handshakes === 1, "one handshake");
        await new Promise((r) => setTimeout(r, 300)); // the subscription is in place

        for (let i = 1; i <= 5; i++)
            await rest(url, token, "POST", "/services/data/v60.0/sobjects/Contact", { LastName: "before-" + i });
        await withTimeout(until(5), 15000, "the first five events");

        // The server forgets the session; records made meanwhile must arrive after the client
        // re-handshakes and resubscribes from its replay id.
        await fetch(url + "/__sim/faults/forget-clients", { method: "POST" });
        for (let i = 1; i <= 5; i++)
            await rest(url, token, "POST", "/services/data/v60.0/sobjects/Contact", { LastName: "after-" + i });
        await withTimeout(until(10), 30000, "the events after the session was lost");
        check(handshakes === 2, "the client re-handshaked once (" + handshakes + ")");

        const expected = [1, 2, 3, 4, 5].map((i) => "before-" + i)
            .concat([1, 2, 3, 4, 5].map((i) => "after-" + i));
        check(JSON.stringify(received) === JSON.stringify(expected),
            "every event exactly once and in order: " + JSON.stringify(received));

        await new Promise((resolve) => cometd.disconnect(() => resolve()));
    } finally {
        child.kill("SIGTERM");
    }
}

main().then(() => {
    console.log(passed + " passed, " + failures.length + " failed");
    process.exit(failures.length ? 1 : 0);
}, (e) => {
    console.error(e);
    console.log(passed + " passed, " + (failures.length + 1) + " failed");
    process.exit(1);
});
