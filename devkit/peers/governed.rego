# The Gatekeeper peer doing aigov's whole admission decision: aigov's own policies
# (policies/aigov/admission) as the template's libs, in package lib.aigov.admission
# with the configuration and each violation's METADATA inlined (Gatekeeper parses
# no annotations and allows no data but data.inventory and data.lib). The input
# aigov's webhook builds is assembled here: the AISystem the workload names and its
# namespace from data.inventory (Gatekeeper syncs both), the time from the clock.
# Not sent: `specHash` (aigov computes it in Python; an approval recorded for a
# spec hash then never counts here), the namespace's AIGovExceptions, and the
# AISystem an UPDATE relabels away from.
package aigovgoverned

import data.lib.aigov.admission

violation contains {"msg": concat("; ", [v.message | some v in decision.violations])} if {
	decision := admission.decision with input as _input
	not decision.allowed
}

_review := input.review

_name := name if {
	name := admission._system_name with input as {"request": _review}
}

_aisystem := system if {
	system := data.inventory.namespace[_review.namespace]["aigov.io/v1alpha1"].AISystem[_name]
} else := null

_labels := labels if {
	labels := data.inventory.cluster.v1.Namespace[_review.namespace].metadata.labels
} else := {}

_input := {
	"request": _review,
	"aisystem": _aisystem,
	"namespace": {"name": _review.namespace, "labels": _labels},
	"now": time.format(time.now_ns()),
	"exceptions": [],
}
