package system.authz_test

import data.system.authz

test_decision_allowed if {
	authz.allow with input as {"method": "POST", "path": ["v1", "data", "aigov", "admission", "decision"]}
}

test_health_and_bundle_manifest_readable if {
	authz.allow with input as {"method": "GET", "path": ["health"]}
	authz.allow with input as {"method": "GET", "path": ["v1", "data", "system", "bundles"]}
}

test_policy_writes_refused if {
	not authz.allow with input as {"method": "PUT", "path": ["v1", "policies", "aigov", "admission", "x.rego"]}
	not authz.allow with input as {"method": "DELETE", "path": ["v1", "policies", "aigov", "admission", "decision.rego"]}
}

test_data_writes_refused if {
	not authz.allow with input as {"method": "PUT", "path": ["v1", "data", "aigov"]}
	not authz.allow with input as {"method": "PATCH", "path": ["v1", "data"]}
}

test_other_reads_refused if {
	not authz.allow with input as {"method": "GET", "path": ["v1", "policies"]}
	not authz.allow with input as {"method": "POST", "path": ["v1", "data", "system", "authz", "allow"]}
	not authz.allow with input as {"method": "GET", "path": ["v1", "data", "aigov", "admission", "decision"]}
}
