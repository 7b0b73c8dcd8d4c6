# METADATA
# title: Who may use OPA's REST API (opa run --authorization=basic)
# description: >-
#   The aigov sidecar answers decisions and tells which bundle it holds; nothing else.
#   Policies and data come from the bundle on disk: every PUT, PATCH and DELETE is refused,
#   and so is any query outside the aigov decision.
package system.authz

default allow := false

# The admission decision (aigov.policy.opa.PolicyClient.decide).
allow if {
	input.method == "POST"
	input.path == ["v1", "data", "aigov", "admission", "decision"]
}

# Liveness, and the manifest of the bundle OPA holds (the webhook's readiness compares its revision).
allow if {
	input.method == "GET"
	input.path in {["health"], ["v1", "data", "system", "bundles"]}
}
