# The configuration (aigov.core.config `policy_data`): bundle data that OPA loads
# once with the policies (aigov.policy.bundle writes it as data.aigov.config), not
# sent with every decision. Every rule reads it through `_config`; this file refers
# to no other, so any file may read it without a cycle. Tests set it with
# `with data.aigov.config as ...` (policies/testdata/config.json).
package aigov.admission

_config := data.aigov.config

# The kinds table, plus the kinds the audit judges beyond it (input.extraKinds: CRDs that embed pod
# templates and that the webhook does not review; aigov.audit.scan). The webhook never sends them.
_kinds := array.concat(_config.kinds, _extra_kinds)

_extra_kinds := input.extraKinds if is_array(input.extraKinds)

else := []
