# Exceptions (AIGovException, `input.exceptions`): which violation codes of the
# workload under review an honoured exception waives. Same meaning as
# aigov/core/exceptions.py `state`: an exception is honoured from its creation
# until strictly before its effective expiry (`spec.expiresAt`, capped at
# creation plus `config.exceptions.maxDays`, or `breakGlassHours` for break-glass),
# when it is not revoked and is either break-glass or approved by someone other
# than its requester. Waived violations leave `violations` for `waived`.
package aigov.admission

_hour_ns := (60 * 60) * 1000000000

# Never waived, whatever the configuration says.
_exc_never_waivable := {"AIGOV_PROHIBITED", "AIGOV_POLICY_UNAVAILABLE"} | {code |
	some code in _config.exceptions.neverWaivable
}

_exc_all := object.get(input, "exceptions", [])

_exc_records(exc) := object.get(exc, ["status", "records"], [])

_exc_created_ns(exc) := time.parse_rfc3339_ns(exc.metadata.creationTimestamp)

_exc_break_glass(exc) if object.get(exc.spec, "breakGlass", false) == true

_exc_max_ns(exc) := _config.exceptions.breakGlassHours * _hour_ns if _exc_break_glass(exc)

else := _config.exceptions.maxDays * _day_ns

_exc_expiry_ns(exc) := min({time.parse_rfc3339_ns(exc.spec.expiresAt), _exc_created_ns(exc) + _exc_max_ns(exc)})

_exc_revoked(exc) if {
	some record in _exc_records(exc)
	record.action == "revoked"
}

_exc_granted(exc) if _exc_break_glass(exc)

_exc_granted(exc) if {
	some record in _exc_records(exc)
	record.action == "approved"
	lower(record.by) != lower(exc.spec.requestedBy)
}

# Exceptions in force at `now` in the request's namespace.
_exc_honoured contains exc if {
	some exc in _exc_all
	object.get(exc.metadata, "namespace", input.request.namespace) == input.request.namespace
	not _exc_revoked(exc)
	_exc_created_ns(exc) <= _now_ns
	_now_ns < _exc_expiry_ns(exc)
	_exc_granted(exc)
}

# The AISystem the workload names (the label), or the one a `scale` request resolved.
_exc_system := _system_name if _workload_review

else := input.aisystem.metadata.name if _scale_review

_exc_workload_labels contains labels if {
	some path in _label_paths
	some labels in _at(_object, path)
	is_object(labels)
}

# An exception names its workloads by system, by labels, or both (then both must match).
_exc_covers(exc) if {
	_exc_targets(exc)
	_exc_system_matches(exc)
	_exc_selector_matches(exc)
}

_exc_targets(exc) if exc.spec.system

_exc_targets(exc) if count(object.get(exc.spec, ["selector", "matchLabels"], {})) > 0

_exc_system_matches(exc) if not exc.spec.system

_exc_system_matches(exc) if exc.spec.system == _exc_system

_exc_selector_matches(exc) if not exc.spec.selector

_exc_selector_matches(exc) if {
	some labels in _exc_workload_labels
	every key, value in object.get(exc.spec.selector, "matchLabels", {}) {
		labels[key] == value
	}
}

# code -> the honoured exception (first by name) that waives it for this workload.
_waivers[code] := sort([exc.metadata.name |
	some exc in _exc_honoured
	code in exc.spec.codes
	_exc_covers(exc)
])[0] if {
	some violation in deny
	code := violation.code
	not code in _exc_never_waivable
}

_exc_waiver_by_name[exc.metadata.name] := exc if some exc in _exc_honoured

waived := sort([{"code": code, "exception": name, "expiresAt": expires, "breakGlass": _exc_break_glass_flag(exc)} |
	some code, name in _waivers
	exc := _exc_waiver_by_name[name]
	expires := time.format([_exc_expiry_ns(exc), "UTC", "2006-01-02T15:04:05Z07:00"])
])

_exc_break_glass_flag(exc) if _exc_break_glass(exc)

else := false

# The violations no exception waives: what `allowed` and `violations` read.
_unwaived contains violation if {
	some violation in deny
	not _waivers[violation.code]
}

_warnings contains _truncate(sprintf("%s waived by %sexception %s until %s", [
	w.code,
	_exc_break_glass_word[w.breakGlass],
	w.exception,
	w.expiresAt,
])) if {
	mode != "off"
	some w in waived
}

_exc_break_glass_word := {true: "break-glass ", false: ""}
