-- Argo CD health check for aigov.io/AISystem.
-- Install it under `resource.customizations.health.aigov.io_AISystem` in argocd-cm (docs/install.md).
-- Healthy when Approved; Degraded when Suspended, Expired or Prohibited; Progressing otherwise,
-- and while the operator has not yet evaluated the latest spec.
local hs = { status = "Progressing", message = "Waiting for the aigov operator to evaluate this AISystem" }
if obj.status == nil or obj.status.phase == nil then
  return hs
end

local generation = obj.metadata and obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  hs.message = "Waiting for the aigov operator to evaluate generation " .. generation
  return hs
end

local phase = obj.status.phase
hs.message = phase
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" and condition.message ~= nil and condition.message ~= "" then
      hs.message = phase .. ": " .. condition.message
    end
  end
end

if phase == "Approved" then
  hs.status = "Healthy"
elseif phase == "Suspended" or phase == "Expired" or phase == "Prohibited" then
  hs.status = "Degraded"
end
return hs
