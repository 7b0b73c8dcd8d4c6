{{/* Names: cluster-scoped objects carry the release's fullname, so two releases never clash. */}}
{{- define "aigov.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-<chart>, or the release name when it already contains the chart name; room left for suffixes. */}}
{{- define "aigov.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "aigov.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "aigov.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aigov
{{- end }}

{{/* Selector labels of one component: include "aigov.selectorLabels" (list . "webhook") */}}
{{- define "aigov.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "aigov.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "aigov.componentLabels" -}}
{{ include "aigov.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* repository[:tag][@digest]; the aigov image's tag defaults to the appVersion. */}}
{{- define "aigov.imageRef" -}}
{{- $image := index . 0 -}}
{{- $tag := default (index . 1) $image.tag -}}
{{- if $image.digest }}{{ $image.repository }}@{{ $image.digest }}
{{- else }}{{ $image.repository }}:{{ $tag }}
{{- end }}
{{- end }}

{{- define "aigov.operatorServiceAccount" -}}
{{ include "aigov.fullname" . }}-operator
{{- end }}

{{/* The usernames allowed to write the operator's status fields, as a JSON (and CEL) list. */}}
{{- define "aigov.operatorUsernamesList" -}}
{{- if .Values.config.identity.operatorUsernames }}
{{- toYaml .Values.config.identity.operatorUsernames }}
{{- else }}
- system:serviceaccount:{{ .Release.Namespace }}:{{ include "aigov.operatorServiceAccount" . }}
{{- end }}
{{- end }}

{{- define "aigov.operatorUsernames" -}}
{{- include "aigov.operatorUsernamesList" . | fromYamlArray | include "aigov.celList" }}
{{- end }}

{{/* A list of strings as a CEL list literal, written as aigov.webhook.registration writes it. */}}
{{- define "aigov.celList" -}}
[{{ range $i, $item := . }}{{ if $i }}, {{ end }}{{ toJson $item }}{{ end }}]
{{- end }}

{{/* Namespaces the webhook skips: the configured ones and the release namespace, sorted, as JSON. */}}
{{- define "aigov.excludedNamespaces" -}}
{{- append .Values.webhook.excludedNamespaces .Release.Namespace | uniq | sortAlpha | toJson }}
{{- end }}

{{/* The aigov configuration file the webhook and the operator read. */}}
{{- define "aigov.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $_ := set $config.identity "operatorUsernames" (include "aigov.operatorUsernamesList" . | fromYamlArray) }}
{{- toYaml $config }}
{{- end }}

{{- define "aigov.tlsSecret" -}}
{{ include "aigov.fullname" . }}-webhook-tls
{{- end }}

{{/* Pod-spec fields both Deployments share: include "aigov.podCommon" (list . .Values.webhook) */}}
{{- define "aigov.podCommon" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $component.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- end }}
