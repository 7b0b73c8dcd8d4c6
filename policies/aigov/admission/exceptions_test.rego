# Exceptions: every violation code waived (or not) by an honoured AIGovException,
# who is covered, and the decision at every boundary second.
package aigov.admission_test

exc_created := "2025-12-20T00:00:00Z"

exc_expires := "2026-01-10T00:00:00Z"

all_codes := [
	"AIGOV_UNGOVERNED", "AIGOV_SYSTEM_NOT_FOUND", "AIGOV_PROHIBITED", "AIGOV_RETIRED", "AIGOV_SUSPENDED",
	"AIGOV_ASSESSMENT_MISSING", "AIGOV_ASSESSMENT_EXPIRED", "AIGOV_ASSESSMENT_STALE", "AIGOV_APPROVAL_MISSING",
	"AIGOV_APPROVAL_EXPIRED", "AIGOV_IMAGE_NOT_APPROVED", "AIGOV_IMAGE_NOT_PINNED", "AIGOV_POLICY_UNAVAILABLE",
]

approved_by(user) := {"action": "approved", "by": user, "at": "2025-12-21T00:00:00Z"}

# An exception `name` in namespace `ml` for system `chat`, requested by dave, waiving every code.
exception(name, spec, records) := {
	"apiVersion": "aigov.io/v1alpha1",
	"kind": "AIGovException",
	"metadata": {"name": name, "namespace": "ml", "creationTimestamp": exc_created},
	"spec": object.union(
		{
			"system": "chat", "codes": all_codes, "justification": "pilot", "ticket": "CHG-1",
			"requestedBy": "dave", "expiresAt": exc_expires,
		},
		spec,
	),
	"status": {"records": records},
}

granted := exception("pilot", {}, [approved_by("alice")])

# The decision for creating `object` against `system` with `exceptions` at `at`.
decide_with(workload, system, exceptions, at) := decide(object.union(
	review(create(workload), system),
	{"exceptions": exceptions, "now": at},
))

waived_codes(d) := {w.code | some w in d.waived}

# --- every code ----------------------------------------------------------------------------------

chat_app := {system_label: "chat", "app": "chat"}

chat_deployment := deployment(chat_app, [container(vllm)])

exc_assessed_for(tier) := object.union(assessment("completed", valid_until), {"riskTier": tier})

# code -> [workload, AISystem] that is denied with that code.
scenario := {
	"AIGOV_UNGOVERNED": [deployment({"app": "chat"}, [container(vllm)]), null],
	"AIGOV_SYSTEM_NOT_FOUND": [chat_deployment, null],
	"AIGOV_PROHIBITED": [chat_deployment, aisystem({"riskTier": "prohibited"}, {})],
	"AIGOV_RETIRED": [chat_deployment, object.union(approved, {"spec": {"lifecycle": {"stage": "retired"}}})],
	"AIGOV_SUSPENDED": [chat_deployment, with_status(approved, {"suspension": {"active": true}})],
	"AIGOV_ASSESSMENT_MISSING": [chat_deployment, aisystem({}, {"approvals": approved.status.approvals})],
	"AIGOV_ASSESSMENT_EXPIRED": [
		chat_deployment,
		with_status(approved, {"impactAssessment": assessment("completed", expired)}),
	],
	"AIGOV_ASSESSMENT_STALE": [chat_deployment, with_status(approved, {"impactAssessment": exc_assessed_for("high")})],
	"AIGOV_APPROVAL_MISSING": [chat_deployment, aisystem({}, {"impactAssessment": assessment("completed", valid_until)})],
	"AIGOV_APPROVAL_EXPIRED": [
		chat_deployment,
		aisystem({}, {
			"impactAssessment": assessment("completed", valid_until),
			"approvals": [approval("alice", "ml-lead", "approved", expired, [vllm])],
		}),
	],
	"AIGOV_IMAGE_NOT_APPROVED": [deployment(chat_app, [container("vllm/vllm-openai:v0.7.0")]), approved],
	"AIGOV_IMAGE_NOT_PINNED": [chat_deployment, approved_high],
}

# The code is denied without an exception, waived by one (selecting by label) naming it, and
# not by one naming every other code.
waivable(code) if {
	[workload, system] := scenario[code]
	by_label := exception("pilot", {"selector": {"matchLabels": {"app": "chat"}}}, [approved_by("alice")])
	selected := json.patch(by_label, [{"op": "remove", "path": "/spec/system"}])
	code in codes(decide_with(workload, system, [], now))
	d := decide_with(workload, system, [selected], now)
	not code in codes(d)
	code in waived_codes(d)
	other := exception("other", {"codes": [c | some c in all_codes; c != code]}, [approved_by("alice")])
	code in codes(decide_with(workload, system, [other], now))
}

test_waives_ungoverned if waivable("AIGOV_UNGOVERNED")

test_waives_system_not_found if waivable("AIGOV_SYSTEM_NOT_FOUND")

test_waives_retired if waivable("AIGOV_RETIRED")

test_waives_suspended if waivable("AIGOV_SUSPENDED")

test_waives_assessment_missing if waivable("AIGOV_ASSESSMENT_MISSING")

test_waives_assessment_expired if waivable("AIGOV_ASSESSMENT_EXPIRED")

test_waives_assessment_stale if waivable("AIGOV_ASSESSMENT_STALE")

test_waives_approval_missing if waivable("AIGOV_APPROVAL_MISSING")

test_waives_approval_expired if waivable("AIGOV_APPROVAL_EXPIRED")

test_waives_image_not_approved if waivable("AIGOV_IMAGE_NOT_APPROVED")

test_waives_image_not_pinned if waivable("AIGOV_IMAGE_NOT_PINNED")

test_never_waives_prohibited if {
	[workload, system] := scenario.AIGOV_PROHIBITED
	d := decide_with(workload, system, [granted], now)
	not d.allowed
	codes(d) == {"AIGOV_PROHIBITED"}
	d.waived == []
}

test_configured_never_waivable_code if {
	[workload, system] := scenario.AIGOV_APPROVAL_MISSING
	config := object.union(data.testdata.config, {"exceptions": {"neverWaivable": ["AIGOV_APPROVAL_MISSING"]}})
	d := decide_with(workload, system, [granted], now) with data.testdata.config as config
	codes(d) == {"AIGOV_APPROVAL_MISSING"}
	waived_codes(d) == {"AIGOV_IMAGE_NOT_APPROVED"}
}

# --- the decision ------------------------------------------------------------------------------

approval_missing := scenario.AIGOV_APPROVAL_MISSING[1]

test_waived_decision_shape if {
	d := decide_with(chat_deployment, approval_missing, [granted], now)
	d.allowed
	d.violations == []
	d.waived == [
		{"code": "AIGOV_APPROVAL_MISSING", "exception": "pilot", "expiresAt": exc_expires, "breakGlass": false},
		{"code": "AIGOV_IMAGE_NOT_APPROVED", "exception": "pilot", "expiresAt": exc_expires, "breakGlass": false},
	]
	d.warnings == [
		"AIGOV_APPROVAL_MISSING waived by exception pilot until 2026-01-10T00:00:00Z",
		"AIGOV_IMAGE_NOT_APPROVED waived by exception pilot until 2026-01-10T00:00:00Z",
	]
}

test_partly_waived_still_denied if {
	only_approval := exception("pilot", {"codes": ["AIGOV_APPROVAL_MISSING"]}, [approved_by("alice")])
	d := decide_with(chat_deployment, approval_missing, [only_approval], now)
	not d.allowed
	codes(d) == {"AIGOV_IMAGE_NOT_APPROVED"}
	waived_codes(d) == {"AIGOV_APPROVAL_MISSING"}
}

test_first_exception_by_name_is_named if {
	d := decide_with(chat_deployment, approval_missing, [granted, object.union(granted, {"metadata": {"name": "a-first"}})], now)
	{w.exception | some w in d.waived} == {"a-first"}
}

test_warn_mode_names_the_waiver_not_the_violation if {
	d := decide(object.union(
		review_in(create(chat_deployment), approval_missing, {"aigov.io/enforcement": "warn"}),
		{"exceptions": [granted]},
	))
	d.allowed
	d.violations == []
	count(d.waived) == 2
	every text in d.warnings {
		contains(text, "waived by exception pilot")
	}
}

test_off_mode_waives_nothing if {
	d := decide(object.union(
		review_in(create(chat_deployment), approval_missing, {"aigov.io/enforcement": "off"}),
		{"exceptions": [granted]},
	))
	d.waived == []
	d.warnings == []
}

test_no_exceptions_input if {
	d := decide(review(create(chat_deployment), approval_missing))
	d.waived == []
	not d.allowed
}

test_scale_request_covered_by_system if {
	d := decide(object.union(review(scale(3), approval_missing), {"exceptions": [granted]}))
	d.allowed
	waived_codes(d) == {"AIGOV_APPROVAL_MISSING"}
}

# --- who is covered ----------------------------------------------------------------------------

denied_with(exceptions) if not decide_with(chat_deployment, approval_missing, exceptions, now).allowed

allowed_with(exceptions) if decide_with(chat_deployment, approval_missing, exceptions, now).allowed

test_other_system_not_covered if denied_with([exception("pilot", {"system": "other"}, [approved_by("alice")])])

test_other_namespace_not_covered if {
	denied_with([object.union(granted, {"metadata": {"namespace": "other"}})])
}

test_selector_and_system_both_must_match if {
	allowed_with([exception("pilot", {"selector": {"matchLabels": {"app": "chat"}}}, [approved_by("alice")])])
	denied_with([exception("pilot", {"selector": {"matchLabels": {"app": "other"}}}, [approved_by("alice")])])
}

test_selector_alone if {
	by_label := exception("pilot", {"selector": {"matchLabels": {"app": "chat"}}}, [approved_by("alice")])
	allowed_with([json.patch(by_label, [{"op": "remove", "path": "/spec/system"}])])
}

test_empty_selector_alone_covers_nothing if {
	nothing := exception("pilot", {"selector": {"matchLabels": {}}}, [approved_by("alice")])
	denied_with([json.patch(nothing, [{"op": "remove", "path": "/spec/system"}])])
}

# --- the records -------------------------------------------------------------------------------

test_pending_not_honoured if denied_with([exception("pilot", {}, [])])

test_self_approved_not_honoured if denied_with([exception("pilot", {}, [approved_by("Dave")])])

test_revoked_not_honoured if {
	denied_with([exception("pilot", {}, [approved_by("alice"), {"action": "revoked", "by": "dave", "at": now}])])
}

test_reviewed_is_not_an_approval if {
	denied_with([exception("pilot", {}, [{"action": "reviewed", "by": "alice", "at": now}])])
}

test_without_creation_time_not_honoured if {
	denied_with([json.patch(granted, [{"op": "remove", "path": "/metadata/creationTimestamp"}])])
}

# --- boundary seconds --------------------------------------------------------------------------

honoured_at(exc, at) if decide_with(chat_deployment, approval_missing, [exc], at).allowed

test_expiry_boundary if {
	honoured_at(granted, "2026-01-09T23:59:59Z")
	not honoured_at(granted, "2026-01-10T00:00:00Z")
	not honoured_at(granted, "2026-01-10T00:00:01Z")
}

test_creation_boundary if {
	not honoured_at(granted, "2025-12-19T23:59:59Z")
	honoured_at(granted, exc_created)
}

test_expiry_capped_at_max_days if {
	long := exception("pilot", {"expiresAt": "2026-03-01T00:00:00Z"}, [approved_by("alice")])
	honoured_at(long, "2026-01-18T23:59:59Z")
	not honoured_at(long, "2026-01-19T00:00:00Z")
	d := decide_with(chat_deployment, approval_missing, [long], now)
	{w.expiresAt | some w in d.waived} == {"2026-01-19T00:00:00Z"}
}

break_glass(expires_at) := object.union(
	exception("incident", {"breakGlass": true, "expiresAt": expires_at, "requestedBy": "oscar"}, []),
	{"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}},
)

test_break_glass_honoured_without_approval_until_expiry if {
	bg := break_glass("2026-01-01T02:00:00Z")
	honoured_at(bg, "2026-01-01T00:00:00Z")
	honoured_at(bg, "2026-01-01T01:59:59Z")
	not honoured_at(bg, "2026-01-01T02:00:00Z")
	d := decide_with(chat_deployment, approval_missing, [bg], "2026-01-01T01:00:00Z")
	{w.breakGlass | some w in d.waived} == {true}
	"AIGOV_APPROVAL_MISSING waived by break-glass exception incident until 2026-01-01T02:00:00Z" in d.warnings
}

test_break_glass_capped_at_break_glass_hours if {
	bg := break_glass("2026-01-05T00:00:00Z")
	honoured_at(bg, "2026-01-01T03:59:59Z")
	not honoured_at(bg, "2026-01-01T04:00:00Z")
}

test_revoked_break_glass_not_honoured if {
	bg := break_glass("2026-01-01T02:00:00Z")
	revoked := object.union(bg, {"status": {"records": [{"action": "revoked", "by": "oscar", "at": now}]}})
	not honoured_at(revoked, "2026-01-01T01:00:00Z")
}
