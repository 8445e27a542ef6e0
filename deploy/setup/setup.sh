#!/bin/sh
# One-shot setup of the compose deployment (docker-compose.yml, service `setup`), safe to run again: it keeps
# every certificate and key that exists. Runs as root in the latchkey image, then gives each file to the user
# of the service that reads it.
set -eu
/bin/sh /app/deploy/setup/make-certs.sh /tls

node /app/dist/apps/cli/main.js keys init \
  --command-signing-key /keys/command/command-signing.jwk.json \
  --trusted-command-keys /keys/trusted/command-trusted-keys.jwks.json \
  --codec-key /keys/codec/payload-codec.key \
  --internal-key /keys/internal/internal-messages.key

# latchkey's own processes run as the image's `latchkey` user: their keys stay 0600, theirs alone.
chown -R latchkey:latchkey /tls/api /tls/worker /keys/command /keys/trusted /keys/codec /keys/internal
chmod 0600 /tls/api/tls.key /tls/worker/tls.key
# The Temporal images run as users of their own: their volumes are mounted by them only (isolation by mount),
# so their keys are readable there. The CA's key stays root's, in a volume no other service mounts.
chmod 0644 /tls/temporal/tls.key /tls/ui/tls.key /tls/admin/tls.key
chmod 0644 /tls/*/ca.crt /tls/*/tls.crt
chmod 0600 /tls/ca/ca.key
