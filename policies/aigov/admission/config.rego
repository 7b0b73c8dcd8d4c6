# The configuration (aigov.core.config `policy_data`): bundle data that OPA loads
# once with the policies (aigov.policy.bundle writes it as data.aigov.config), not
# sent with every decision. Every rule reads it through `_config`; this file refers
# to no other, so any file may read it without a cycle. Tests set it with
# `with data.aigov.config as ...` (policies/testdata/config.json).
package aigov.admission

_config := data.aigov.config

# The kinds-table entry of `group` and `kind`: two lookups in the table's index
# (aigov.core.config `kindIndex`), else one of the kinds the audit judges beyond it
# (input.extraKinds: CRDs that embed pod templates and that the webhook does not
# review; aigov.audit.scan). The webhook never sends them.
_kind_entry(group, kind) := info if {
	info := _config.kinds[_config.kindIndex[group][kind]]
}

else := info if {
	is_array(input.extraKinds)
	some info in input.extraKinds
	info.group == group
	info.kind == kind
}
