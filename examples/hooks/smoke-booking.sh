#!/bin/sh
# Smoke-test hook (docs/hooks.md): book one appointment on green through the load balancer's
# test-header rule, then read it back. Exit 0 when both answer as expected; anything else fails
# the step, and the cutover rolls back.
#
# From the engine: BLUEGREEN_ALB_DNS, BLUEGREEN_TEST_HEADER (the header that routes straight to a
# color), BLUEGREEN_RUN_ID, BLUEGREEN_STEP, BLUEGREEN_WEIGHT_GREEN, ...
# Optional: SMOKE_BASE_URL (default http://$BLUEGREEN_ALB_DNS), SMOKE_CLIENT_ID / SMOKE_PET_ID
# (a client and a pet that exist in production for smoke tests; default 1 / 1), SMOKE_COLOR
# (default green).
set -eu

: "${BLUEGREEN_ALB_DNS:?run by the cutover: BLUEGREEN_ALB_DNS is not set}"
: "${BLUEGREEN_TEST_HEADER:?run by the cutover: BLUEGREEN_TEST_HEADER is not set}"
base="${SMOKE_BASE_URL:-http://$BLUEGREEN_ALB_DNS}"
color="${SMOKE_COLOR:-green}"
client="${SMOKE_CLIENT_ID:-1}"
pet="${SMOKE_PET_ID:-1}"
# The same request id on a retry books nothing twice (the app answers 200 "repeated").
request_id="$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen)"

body="$(printf '{"requestId":"%s","clientId":%s,"petId":%s,"service":"checkup"}' "$request_id" "$client" "$pet")"
answer="$(curl --silent --show-error --fail --max-time 10 \
  -H "$BLUEGREEN_TEST_HEADER: $color" -H 'content-type: application/json' \
  -X POST --data "$body" "$base/bookings")"
id="$(printf '%s' "$answer" | sed -n 's/.*"id":\([0-9][0-9]*\).*/\1/p')"
if [ -z "$id" ]; then
  echo "smoke-booking: POST /bookings on $color answered without an id: $answer" >&2
  exit 1
fi

read_back="$(curl --silent --show-error --fail --max-time 10 -H "$BLUEGREEN_TEST_HEADER: $color" "$base/bookings/$id")"
case "$read_back" in
  *"\"id\":$id"*) ;;
  *)
    echo "smoke-booking: GET /bookings/$id on $color did not return the booking: $read_back" >&2
    exit 1
    ;;
esac
echo "smoke-booking: booked and read back booking $id on $color (run ${BLUEGREEN_RUN_ID:-?}, step ${BLUEGREEN_STEP:-?}, green ${BLUEGREEN_WEIGHT_GREEN:-?}%)"
