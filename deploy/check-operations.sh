#!/usr/bin/env bash
# Checks what operators load, with the tools they load it with:
#   promtool check rules / test rules on deploy/prometheus (every alert, firing and not firing);
#   kubernetes-validate --strict on every manifest (Kubernetes' own schemas);
#   the built agent on loopback (demo, a proposal open): promtool check metrics on a live /metrics
#   scrape, and the status page rendered by headless Chromium, its text checked, a PNG saved.
# Needs: Debian's prometheus, chromium, poppler-utils; PyPI's kubernetes-validate; a built binary
# (swift build). Usage: deploy/check-operations.sh [BINARY] [SCREENSHOT]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/failover-agent}
screenshot=${2:-.build/status-page.png}
for tool in promtool kubernetes-validate chromium pdftotext stdbuf; do
  command -v "$tool" >/dev/null || { echo "check-operations: $tool is missing (apt-get install prometheus chromium poppler-utils; pip install kubernetes-validate)" >&2; exit 1; }
done
promtool check rules deploy/prometheus/failover-agent.rules.yml
(cd deploy/prometheus && promtool test rules failover-agent.rules.test.yml)
kubernetes-validate --strict --quiet deploy/kubernetes/*.yaml
echo "check-operations: every manifest passes kubernetes-validate --strict"
timeout 300 python3 Tests/Operations/status_page_check.py "$binary" "$screenshot" | grep '^status_page_check'
