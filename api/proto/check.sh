#!/usr/bin/env bash
# Regenerates the protobuf code in a scratch copy and fails when it differs
# from what is checked in (someone edited a .proto without `make proto`).
set -euo pipefail
tools=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/api"
cp "$root/buf.yaml" "$root/buf.gen.yaml" "$scratch/"
cp -r "$root/api/proto" "$scratch/api/"
(cd "$scratch" && PATH="$tools:$PATH" "$tools/buf" generate)
if ! diff -r "$root/api/cairnv1" "$scratch/api/cairnv1" >/dev/null || ! diff -r "$root/api/openapi" "$scratch/api/openapi" >/dev/null; then
	diff -ru "$root/api/cairnv1" "$scratch/api/cairnv1" | head -40 || true
	diff -ru "$root/api/openapi" "$scratch/api/openapi" | head -40 || true
	echo "generated protobuf code is stale: run 'make proto' and commit the result" >&2
	exit 1
fi
echo "generated protobuf code is up to date"
