#!/bin/sh
# Registers the default namespace and latchkey's custom search attributes (contracts/search-attributes.ts);
# safe to run again. Connects with mTLS: the certificate of admin-tools (TEMPORAL_TLS_*, docker-compose.yml).
set -eu
temporal() {
  command temporal "$@" --tls-ca-path "$TEMPORAL_TLS_CA" --tls-cert-path "$TEMPORAL_TLS_CERT" \
    --tls-key-path "$TEMPORAL_TLS_KEY" --tls-server-name "$TEMPORAL_TLS_SERVER_NAME"
}
temporal operator namespace describe --namespace default >/dev/null 2>&1 \
  || temporal operator namespace create --namespace default --retention 30d

register() {
  temporal operator search-attribute create --namespace default --name "$1" --type "$2" 2>/dev/null \
    || temporal operator search-attribute list --namespace default | grep -q "$1"
}
register LatchkeyStatus Keyword
register LatchkeyRequester Keyword
register LatchkeyResource Keyword
register LatchkeyIntegration Keyword
register LatchkeyVault Keyword
register LatchkeyPendingApprovers KeywordList
register LatchkeyGrantEndsAt Datetime
register LatchkeyBreakGlass Keyword
register LatchkeyDeciders KeywordList
