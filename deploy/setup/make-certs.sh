#!/bin/sh
# The compose deployment's private CA and one certificate per party of Temporal's mTLS, each in the volume of
# the service that uses it (only this setup mounts the CA's key). A certificate that exists is kept: delete its
# volume to reissue it. Usage: make-certs.sh ROOT (ROOT/ca, ROOT/temporal, ROOT/ui, ROOT/admin, ROOT/api, ROOT/worker).
set -eu
ROOT=$1
DAYS=${LATCHKEY_CERT_DAYS:-825}
umask 077

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

if [ ! -s "$ROOT/ca/ca.key" ] || [ ! -s "$ROOT/ca/ca.crt" ]; then
  newkey "$ROOT/ca/ca.key"
  openssl req -x509 -new -key "$ROOT/ca/ca.key" -out "$ROOT/ca/ca.crt" -days 3650 -subj '/CN=latchkey compose CA' \
    -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' -addext 'keyUsage=critical,keyCertSign,cRLSign'
  echo "created the CA in $ROOT/ca"
else
  echo "kept the CA in $ROOT/ca"
fi

# issue DIR COMMON_NAME EXTENDED_KEY_USAGE SUBJECT_ALT_NAMES
issue() {
  dir=$ROOT/$1
  if [ -s "$dir/tls.crt" ] && [ -s "$dir/tls.key" ] && openssl verify -CAfile "$ROOT/ca/ca.crt" "$dir/tls.crt" >/dev/null 2>&1; then
    echo "kept the certificate in $dir"
  else
    newkey "$dir/tls.key"
    openssl req -new -key "$dir/tls.key" -out "$dir/tls.csr" -subj "/CN=$2"
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
      "$3" "$4" >"$dir/tls.ext"
    openssl x509 -req -in "$dir/tls.csr" -CA "$ROOT/ca/ca.crt" -CAkey "$ROOT/ca/ca.key" -CAcreateserial \
      -CAserial "$ROOT/ca/ca.srl" -days "$DAYS" -extfile "$dir/tls.ext" -out "$dir/tls.crt" 2>/dev/null
    rm -f "$dir/tls.csr" "$dir/tls.ext"
    echo "created the certificate in $dir"
  fi
  cp "$ROOT/ca/ca.crt" "$dir/ca.crt"
}

# The frontend's certificate, also presented by the server to itself (internode, its system worker): both uses.
issue temporal temporal serverAuth,clientAuth DNS:temporal,DNS:localhost,IP:127.0.0.1
issue ui temporal-ui clientAuth DNS:temporal-ui
issue admin temporal-admin-tools clientAuth DNS:temporal-admin-tools
issue api latchkey-api clientAuth DNS:latchkey-api
issue worker latchkey-worker clientAuth DNS:latchkey-worker
