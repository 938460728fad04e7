#!/usr/bin/env python3
"""An ETSI GS QKD 014 V1.1.1 SAE client, written to the standard with Python requests, run against a qrng KME.

Used by the test suite (Tests/QRNGCLITests/KeyDeliveryTests.swift); not part of qrng. Each SAE is a client
certificate (DIR/NAME.pem, DIR/NAME.key) whose subject CN is its SAE ID. Checks, and exits 1 at the first fault:

1. a master's keys (POST enc_keys) reach its slave (POST dec_keys) unchanged, in order, and once only;
2. a third SAE is refused a key made for another, with the standard's Error body, and its attempt consumes
   nothing;
3. Status reflects stored_key_count before, between and after;
4. three master/slave pairs at once, over several connections: every key is delivered exactly once, to its slave,
   with its master's bytes, and no two keys are equal.

Prints one JSON line of counts on success.
"""
import argparse
import base64
import json
import queue
import sys
import threading
import uuid

import requests


class SAE:
    def __init__(self, base, pki, name, server_ca):
        self.name = name
        self.session = requests.Session()
        self.session.cert = (f"{pki}/{name}.pem", f"{pki}/{name}.key")
        self.session.verify = server_ca
        # REQUESTS_CA_BUNDLE and proxies from the environment would override the session's CA: loopback only.
        self.session.trust_env = False
        self.base = base.rstrip("/") + "/api/v1/keys/"

    def status(self, slave):
        reply = self.session.get(self.base + f"{slave}/status", timeout=60)
        expect(reply.status_code == 200, f"{self.name} status of {slave}: {reply.status_code} {reply.text}")
        return reply.json()

    def enc_keys(self, slave, number, size, **extra):
        body = {"number": number, "size": size, **extra}
        return self.session.post(self.base + f"{slave}/enc_keys", json=body, timeout=60)

    def dec_keys(self, master, key_ids):
        body = {"key_IDs": [{"key_ID": key_id} for key_id in key_ids]}
        return self.session.post(self.base + f"{master}/dec_keys", json=body, timeout=60)


def expect(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


def keys_of(reply, number, size, who):
    expect(reply.status_code == 200, f"{who}: {reply.status_code} {reply.text}")
    expect(reply.headers.get("Content-Type", "").startswith("application/json"), f"{who}: content type")
    container = reply.json()
    keys = container["keys"]
    expect(len(keys) == number, f"{who}: {len(keys)} keys, not {number}")
    result = []
    for key in keys:
        expect(set(key) == {"key_ID", "key"}, f"{who}: key fields {sorted(key)}")
        expect(str(uuid.UUID(key["key_ID"])) == key["key_ID"], f"{who}: key_ID {key['key_ID']} not a lower-case UUID")
        material = base64.b64decode(key["key"], validate=True)
        expect(len(material) * 8 == size, f"{who}: a key of {len(material) * 8} bits, not {size}")
        result.append((key["key_ID"], material))
    return result


def expect_error(reply, status, who):
    expect(reply.status_code == status, f"{who}: status {reply.status_code}, not {status}: {reply.text}")
    error = reply.json()
    expect(isinstance(error.get("message"), str) and error["message"], f"{who}: no message in {error}")
    expect("key" not in error and "keys" not in error, f"{who}: key material in an error: {error}")
    return error


def main():
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--url", required=True)
    arguments.add_argument("--pki", required=True, help="directory of NAME.pem and NAME.key per SAE")
    arguments.add_argument("--server-ca", required=True)
    arguments.add_argument("--rounds", type=int, default=30)
    options = arguments.parse_args()
    alice, bob, carol = (SAE(options.url, options.pki, name, options.server_ca) for name in ("alice", "bob", "carol"))

    # 1 and 3: a master's keys reach its slave once.
    before = alice.status("bob")
    expect(before["master_SAE_ID"] == "alice" and before["slave_SAE_ID"] == "bob", f"status {before}")
    for field in ("source_KME_ID", "target_KME_ID", "key_size", "stored_key_count", "max_key_count",
                  "max_key_per_request", "max_key_size", "min_key_size", "max_SAE_ID_count"):
        expect(field in before, f"status lacks {field}: {before}")
    made = keys_of(alice.enc_keys("bob", 5, 256), 5, 256, "alice enc_keys")
    expect(alice.status("bob")["stored_key_count"] == before["stored_key_count"] + 5, "stored_key_count after enc_keys")
    fetched = keys_of(bob.dec_keys("alice", [key_id for key_id, _ in made]), 5, 256, "bob dec_keys")
    expect(fetched == made, "bob's keys differ from alice's")
    expect(alice.status("bob")["stored_key_count"] == before["stored_key_count"], "stored_key_count after dec_keys")
    expect_error(bob.dec_keys("alice", [made[0][0]]), 400, "bob's second dec_keys")

    # 2: a third SAE is refused, and its attempt costs the slave nothing.
    [(key_id, material)] = keys_of(alice.enc_keys("bob", 1, 512), 1, 512, "alice enc_keys")
    refused = expect_error(carol.dec_keys("alice", [key_id]), 400, "carol's dec_keys of bob's key")
    unknown = expect_error(carol.dec_keys("alice", [str(uuid.uuid4())]), 400, "carol's dec_keys of no key")
    expect(refused["message"].replace(key_id, "ID") == unknown["message"].replace(
        unknown["details"][-1]["key_ID"], "ID"), "another SAE's key and no key are refused differently")
    expect(keys_of(bob.dec_keys("alice", [key_id]), 1, 512, "bob dec_keys") == [(key_id, material)], "bob's key")

    # 4: three pairs at once.
    pairs = [(alice, bob), (bob, carol), (carol, alice)]
    handed = {pair[0].name: queue.Queue() for pair in pairs}
    made_keys, fetched_keys, faults = {}, {}, []
    lock = threading.Lock()

    def master(sae, slave):
        try:
            for _ in range(options.rounds):
                keys = keys_of(sae.enc_keys(slave.name, 4, 256), 4, 256, f"{sae.name} enc_keys")
                with lock:
                    for key_id, material in keys:
                        expect(key_id not in made_keys, f"key_ID {key_id} made twice")
                        made_keys[key_id] = (sae.name, slave.name, material)
                handed[sae.name].put([key_id for key_id, _ in keys])
        finally:
            handed[sae.name].put(None)

    def slave(sae, master_sae):
        while (key_ids := handed[master_sae.name].get()) is not None:
            keys = keys_of(sae.dec_keys(master_sae.name, key_ids), len(key_ids), 256, f"{sae.name} dec_keys")
            with lock:
                for key_id, material in keys:
                    if key_id in fetched_keys:
                        faults.append(f"{key_id} delivered twice")
                    fetched_keys[key_id] = (master_sae.name, sae.name, material)

    def guarded(function, *args):
        def run():
            try:
                function(*args)
            except SystemExit:
                faults.append(f"{function.__name__} {[a.name for a in args]} failed")
        return threading.Thread(target=run)

    threads = [guarded(master, m, s) for m, s in pairs] + [guarded(slave, s, m) for m, s in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expect(not faults, "; ".join(faults))
    expect(len(made_keys) == 3 * 4 * options.rounds, f"{len(made_keys)} keys made")
    expect(fetched_keys == made_keys, "the keys fetched are not the keys made, each by its own slave")
    expect(len({material for _, _, material in made_keys.values()}) == len(made_keys), "two keys are equal")
    for master_sae, slave_sae in pairs:
        expect(master_sae.status(slave_sae.name)["stored_key_count"] == 0, "keys left after the concurrent run")
    print(json.dumps({"keys": len(made_keys) + 6, "pairs": len(pairs)}))


if __name__ == "__main__":
    main()
