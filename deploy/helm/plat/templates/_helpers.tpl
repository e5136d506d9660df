{{/* Names, labels and the image reference shared by every template. */}}

{{- define "plat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "plat.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "plat.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "plat.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "plat.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "plat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* plat.selector: selector labels of one component (registry, drift-watch, drift-check). */}}
{{- define "plat.selector" -}}
app.kubernetes.io/name: {{ include "plat.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "plat.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "plat.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* plat.imageRef: repository[:tag][@digest] from an image dict, falling back to .Values.image. */}}
{{- define "plat.imageRef" -}}
{{- $img := .image | default dict -}}
{{- $repo := $img.repository | default .root.Values.image.repository -}}
{{- $tag := $img.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- $digest := $img.digest | default (ternary .root.Values.image.digest "" (empty $img.repository)) -}}
{{- if $digest -}}
{{- if not (hasPrefix "sha256:" $digest) -}}{{- fail "image digest must start with sha256:" -}}{{- end -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString $tag) -}}
{{- end -}}
{{- end -}}

{{- define "plat.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{- define "plat.securityContext" -}}
{{- toYaml .Values.securityContext -}}
{{- end -}}

{{- define "plat.driftImage" -}}
{{- include "plat.imageRef" (dict "root" . "image" .Values.drift.image) -}}
{{- end -}}

{{- define "plat.registrySecretName" -}}
{{- .Values.registry.database.existingSecret | default (printf "%s-registry" (include "plat.fullname" .)) -}}
{{- end -}}

{{/* plat.driftCheckEnv: the pass id (the Job's name, shared by every shard of one
run) and the shard index, from the downward API. */}}
{{- define "plat.driftCheckEnv" -}}
- name: PLAT_DRIFT_PASS
  valueFrom:
    fieldRef:
      fieldPath: metadata.labels['batch.kubernetes.io/job-name']
- name: PLAT_SHARD_INDEX
  valueFrom:
    fieldRef:
      fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
{{- end -}}
