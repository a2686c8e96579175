# Sourced by the suite-in-container tests: reports one ctest run made inside a
# container. The caller sets ran=0 failed=0; report counts into them.

report() { # LABEL STATUS OUTPUT_FILE (the inner ctest's full log is OUTPUT_FILE.log)
    local label=$1 status=$2 out=$3
    if [ "$status" -eq 0 ] && grep -q '100% tests passed' "$out"; then
        echo "$label: pass"
        grep -E '^[0-9]+% tests passed|^Total Test time' "$out" | sed 's/^/    ctest: /'
        # gtest prints "<file>:<line>: Skipped" and then the reason.
        grep -h -A1 ': Skipped$' "$out.log" 2>/dev/null | grep -v -- '^--$' | grep -v ': Skipped$' \
            | sort -u | sed 's/^/    skipped inside: /' || true
        ran=$((ran + 1))
    else
        echo "$label: FAIL (exit $status)"
        sed 's/^/    /' "$out"
        failed=$((failed + 1))
    fi
}
