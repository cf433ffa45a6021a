#!/usr/bin/env bash
# Makes a throwaway certificate authority and a server certificate for bookcast-sim, for tests
# and the demo: DIR/ca.pem (give it to clients as ca_file), DIR/server.pem and DIR/server.key
# (give them to bookcast-sim --cert/--key). The server certificate names localhost and 127.0.0.1.
# Keys are P-256 (fast handshakes); everything is valid for 30 days. Never use these in
# production: the CA's private key sits beside them.
# usage: sim/make-certs.sh DIR
set -eu
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
command -v openssl >/dev/null || { echo "make-certs: openssl is not installed" >&2; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout ca.key -out ca.pem -days 30 -subj "/CN=bookcast-sim throwaway CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
  -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 600 ca.key server.key
openssl verify -CAfile ca.pem server.pem >/dev/null
echo "make-certs: $dir/ca.pem, $dir/server.pem, $dir/server.key"
