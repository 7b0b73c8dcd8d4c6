# METADATA
# title: aigov admission
# description: |
#   The admission decision for Kubernetes workloads under ISO/IEC 42001, and
#   warnings about AISystems being created or updated (aisystem.rego).
#   Entrypoint `data.aigov.admission.decision`; the contract is in policies/README.md.
# entrypoint: true
package aigov.admission

_modes := {"enforce", "warn", "audit", "off"}

_max_warning := 120

# The decision, undefined when the input is malformed (the caller then denies).
decision := {"allowed": true, "mode": "off", "violations": [], "waived": [], "warnings": []} if {
	_input_ok
	mode == "off"
} else := {"allowed": allowed, "mode": mode, "violations": violations, "waived": waived, "warnings": warnings} if {
	_input_ok
}

_input_ok if {
	is_string(input.request.operation)
	is_object(_config)
	time.parse_rfc3339_ns(input.now)
}

# The enforcement mode: the namespace label, else the configured default.
mode := label if {
	label := _namespace_labels[_config.enforcementLabel]
	label in _modes
} else := _config.defaultEnforcement

_namespace_labels := object.get(input.namespace, "labels", {})

default allowed := false

allowed if mode in {"warn", "audit", "off"}

# Violations an honoured exception waives are not counted (exceptions.rego).
allowed if count(_unwaived) == 0

violations := [{"code": v.code, "message": v.message, "control": v.control} | some v in _unwaived]

warnings := sort(_warnings)

_warnings contains _truncate(sprintf("%s: %s", [v.code, object.get(v, "short", v.message)])) if {
	mode == "warn"
	some v in _unwaived
}

_warnings contains _truncate(text) if some text in _expiry_warnings

_warnings contains _truncate(sprintf(
	"namespace label %s=%s is not one of enforce, warn, audit, off; using %s",
	[_config.enforcementLabel, label, mode],
)) if {
	label := _namespace_labels[_config.enforcementLabel]
	not label in _modes
}

_truncate(text) := text if count(text) <= _max_warning

else := concat("", [substring(text, 0, _max_warning - 3), "..."])

_expiry_warnings contains sprintf("AISystem %q: impact assessment expires %s; renew: kubectl aigov assess %s", [
	_record.metadata.name,
	_date(_assessment.expiresAt),
	_cli_target,
]) if {
	_assessment_valid
	_expires_soon(_assessment)
}

_expiry_warnings contains sprintf("AISystem %q: approval by %s expires %s; renew: kubectl aigov approve %s", [
	_record.metadata.name,
	entry.approver,
	_date(entry.expiresAt),
	_cli_target,
]) if {
	some entry in _valid_approvals
	_expires_soon(entry)
}

_expires_soon(record) if {
	time.parse_rfc3339_ns(record.expiresAt) <= _now_ns + (_config.warningWindowDays * _day_ns)
}

_date(timestamp) := time.format([time.parse_rfc3339_ns(timestamp), "UTC", "2006-01-02"])
