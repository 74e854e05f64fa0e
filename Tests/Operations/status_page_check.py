#!/usr/bin/env python3
"""The agent on loopback, seen as its operators see it.

Runs `failover-agent demo --interactive` (a Vertex AI outage, propose mode) and, while the proposal
waits for a person: scrapes /metrics and runs `promtool check metrics` on it; renders the status
page (GET /) in headless Chromium to a PNG screenshot and to PDF, and checks the text a person
sees there (pdftotext): the failing provider, the open proposal and its approve command. Then it
approves with the CLI, as a person would, and expects the demo to finish its story (exit 0).

usage: status_page_check.py BINARY SCREENSHOT.png
"""
import os, re, shutil, subprocess, sys, tempfile, time, urllib.request

binary, screenshot = sys.argv[1], os.path.abspath(sys.argv[2])
deadline = time.monotonic() + 240
chromium = shutil.which("chromium") or shutil.which("chromium-browser") or sys.exit("status_page_check: chromium is not installed")

def fail(message):
    demo.kill()
    sys.exit(f"status_page_check: FAIL: {message}")

def browser(*args):
    profile = tempfile.mkdtemp(prefix="fa-chromium-")
    try:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                        "--hide-scrollbars", *args], check=True, timeout=90, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        shutil.rmtree(profile, ignore_errors=True)

demo = subprocess.Popen(["stdbuf", "-oL", binary, "demo", "--interactive", "--speed", "20"], stdout=subprocess.PIPE, text=True)
approve = None
for line in demo.stdout:
    sys.stdout.write(line)
    match = re.search(r"To approve: FAILOVER_AGENT_TOKEN=(\S+) failover-agent approve (\S+) --agent (\S+)", line)
    if match:
        approve = match.groups()
        break
    if time.monotonic() > deadline:
        fail("no proposal within the time limit")
if not approve:
    fail("the demo ended without a proposal")
token, proposal, agent = approve

# promtool on a live scrape.
metrics = urllib.request.urlopen(agent + "/metrics", timeout=10).read()
check = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True)
if check.returncode != 0 or check.stdout.strip() or check.stderr.strip():
    fail(f"promtool check metrics: {(check.stdout + check.stderr).decode()}")
print(f"status_page_check: promtool check metrics passed on a live scrape ({len(metrics)} bytes)")

# The page as a person sees it.
browser("--window-size=1280,900", f"--screenshot={screenshot}", agent + "/")
with tempfile.TemporaryDirectory() as work:
    pdf = os.path.join(work, "status.pdf")
    browser(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", agent + "/")
    seen = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True).stdout
print(seen)
for needed, why in [
    (r"vertex\s+failing", "the failing provider"),
    (rf"{proposal}\s+failover\s+vertex\s+aigw-production", "the open proposal"),
    (rf"failover-agent approve {proposal}", "its approve command"),
    (r"aigw-production\s+vault\s+ready", "the readiness checks"),
]:
    if not re.search(needed, seen):
        fail(f"the status page does not show {why} ({needed})")
if not os.path.getsize(screenshot) > 10_000:
    fail("the screenshot is empty")
print(f"status_page_check: the status page shows the failing provider, proposal {proposal} and its approve command; screenshot: {screenshot}")

# A person approves; the story ends with the secret restored.
env = dict(os.environ, FAILOVER_AGENT_TOKEN=token)
subprocess.run([binary, "approve", proposal, "--agent", agent], env=env, check=True, timeout=60)
for line in demo.stdout:
    sys.stdout.write(line)
status = demo.wait(timeout=max(1, deadline - time.monotonic()))
if status != 0:
    sys.exit(f"status_page_check: FAIL: the demo ended with exit {status}")
print("status_page_check: passed")
