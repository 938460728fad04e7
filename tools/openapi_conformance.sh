#!/usr/bin/env bash
# Holds a live `qrng serve --http` to its OpenAPI documents with schemathesis (PyPI): every route, parameter,
# status, header and body schema, on generated valid and invalid requests.
#
# 1. Sources/QRNGServer/openapi.yaml, the /v1 API, over plaintext HTTP;
# 2. Sources/QRNGServer/KeyDelivery/etsi014.yaml, the ETSI GS QKD 014 key management entity, over mutual TLS with
#    a throw-away PKI made by openssl (the calling SAE is `alice`).
#
# usage: tools/openapi_conformance.sh QRNG_BINARY [SCHEMATHESIS]
# Loopback only; the server is the simulated source (served with --allow-simulated, as every response says).
set -euo pipefail
cd "$(dirname "$0")/.."
qrng=${1:?usage: tools/openapi_conformance.sh QRNG_BINARY [SCHEMATHESIS]}
schemathesis=${2:-schemathesis}
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Starts `qrng serve` with the given options; sets $server and $address once it listens.
start() {
    "$qrng" serve --http 127.0.0.1:0 --allow-simulated --stats-interval 0 "$@" 2>"$work/log" &
    server=$!
    address=""
    for _ in $(seq 600); do
        address=$(grep -o 'listening on https\?://[0-9.:]*' "$work/log" | sed 's/listening on //' || true)
        [ -n "$address" ] && return
        kill -0 "$server" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
        sleep 0.1
    done
    echo "qrng serve did not listen within a minute" >&2
    cat "$work/log" >&2
    exit 1
}

# Stops the server with SIGTERM; it must exit 0.
stop() {
    kill -TERM "$server"
    local status=0
    wait "$server" || status=$?
    server=""
    if [ "$status" -ne 0 ]; then
        echo "qrng serve exited with status $status after SIGTERM" >&2
        cat "$work/log" >&2
        exit 1
    fi
}

# positive_data_acceptance is left out: the /v1 document cannot say that type=uint16 needs an even byte count or
# that size must divide it, nor the KME's that an SAE ID in the path must not be the caller's or that a key_ID must
# name a key made for the caller; those valid-looking requests rightly get 400 naming the field.
start
"$schemathesis" run Sources/QRNGServer/openapi.yaml --url "$address" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples 40 --seed 27 --workers 2 --suppress-health-check too_slow --request-timeout 120
stop

curve=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${curve[@]}" -keyout "$work/ca.key" -out "$work/ca.pem" -subj "/CN=conformance CA" -days 1 2>/dev/null
openssl req "${curve[@]}" -keyout "$work/alice.key" -out "$work/alice.csr" -subj "/CN=alice" 2>/dev/null
openssl x509 -req -in "$work/alice.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -out "$work/alice.pem" -days 1 2>/dev/null
openssl req -x509 "${curve[@]}" -keyout "$work/server.key" -out "$work/server.pem" -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -days 1 2>/dev/null
# Quotas high enough that generated requests are answered on their merits rather than with 429.
start --tls-cert "$work/server.pem" --tls-key "$work/server.key" --client-ca "$work/ca.pem" --kme-id kme-conformance \
    --quota-requests-per-second 100000 --quota-bytes-per-second 1G
# One worker: hypothesis describes its filters by parsing their source, which Python 3.11's parser does not survive
# from two threads at once (a SystemError on this document's key_ID filters).
"$schemathesis" run Sources/QRNGServer/KeyDelivery/etsi014.yaml --url "$address" \
    --request-cert "$work/alice.pem" --request-cert-key "$work/alice.key" --tls-verify "$work/server.pem" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples 40 --seed 27 --workers 1 --suppress-health-check too_slow --request-timeout 120
stop
