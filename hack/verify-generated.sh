#!/usr/bin/env bash
# hack/verify-generated.sh - fail when the committed generated files are stale.
#
# Regenerates the deepcopy code and the CRD/RBAC manifests (`make generate manifests`) and
# compares them with what git has. CI runs it (`make verify-generated`); on failure, run
# `make generate manifests` and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

GENERATED=(api/v1alpha1/zz_generated.deepcopy.go config/crd/bases config/rbac/role.yaml)

make --no-print-directory generate manifests >/dev/null

# Untracked generated files (a new kind's CRD) count as stale too.
stale=$(git status --porcelain --untracked-files=all -- "${GENERATED[@]}")
if [ -n "$stale" ]; then
	echo "verify-generated: these generated files are out of date with the API types and markers:" >&2
	echo "$stale" | sed 's/^/  /' >&2
	git --no-pager diff --stat -- "${GENERATED[@]}" >&2 || true
	echo "Run 'make generate manifests' and commit the result." >&2
	exit 1
fi
echo "verify-generated: generated files are up to date"
