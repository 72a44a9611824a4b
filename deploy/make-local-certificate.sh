#!/bin/sh
# A self-signed certificate for https://localhost, for trying the HTTPS front door locally
# (docker-compose.tls.yml). Browsers warn about it: it is signed by nobody they trust. For a real name, put its
# certificate chain and key in deploy/tls/ as fullchain.pem and privkey.pem instead (deploy/README.md, "TLS").
#   sh deploy/make-local-certificate.sh [folder]      # default: deploy/tls
set -eu

folder="${1:-$(dirname "$0")/tls}"
mkdir -p "$folder"
openssl req -x509 -newkey rsa:2048 -sha256 -days 90 -nodes -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
  -keyout "$folder/privkey.pem" -out "$folder/fullchain.pem" 2>/dev/null
# The proxy runs as uid 101, which must read the key: for this local, self-signed key, world-readable is fine;
# a real key is given to uid 101 instead (chown 101 privkey.pem; chmod 400 privkey.pem).
chmod 644 "$folder/privkey.pem"
echo "wrote $folder/fullchain.pem and $folder/privkey.pem (self-signed for localhost, valid 90 days)"
