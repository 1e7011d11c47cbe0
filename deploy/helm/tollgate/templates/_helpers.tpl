{{/* Names, labels and the settings several templates share. */}}

{{- define "tollgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tollgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "tollgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The gateway pods' selector (the migration Job's pods have component "migrate"). */}}
{{- define "tollgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "tollgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tollgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tollgate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "tollgate.toolsImage" -}}
{{- printf "%s:%s" .Values.toolsImage.repository (default .Chart.AppVersion .Values.toolsImage.tag) -}}
{{- end -}}

{{/* The fingerprint of proxy_config; deploy/tools/config-hash.ts computes the same from a config.yaml. */}}
{{- define "tollgate.configHash" -}}
{{- sha256sum (toJson (default (dict) .Values.proxy_config)) -}}
{{- end -}}

{{/* Several replicas run only in cluster mode: the autoscaler owns the count when it is on. */}}
{{- define "tollgate.autoscaled" -}}
{{- if and .Values.cluster.enabled .Values.autoscaling.enabled }}true{{ end -}}
{{- end -}}

{{- define "tollgate.redisBridgeTokenSecret" -}}
{{- default (printf "%s-redis-bridge" (include "tollgate.fullname" .)) .Values.redis.bridge.tokenSecret.name -}}
{{- end -}}

{{- define "tollgate.dataClaim" -}}
{{- default (printf "%s-data" (include "tollgate.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{/* DATABASE_URL from its Secret, for workerd, the WebSocket proxy and the migrations. */}}
{{- define "tollgate.databaseUrlEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "db.urlSecret.name is required (a Secret with DATABASE_URL)" .Values.db.urlSecret.name }}
      key: {{ .Values.db.urlSecret.key }}
{{- end -}}

{{/* A sidecar's startup probe: its port on loopback answers (kubelet's own probes reach only the pod IP). */}}
{{- define "tollgate.loopbackProbe" -}}
exec:
  command:
    - node
    - -e
    - "require('net').connect({{ . }}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"
periodSeconds: 1
failureThreshold: 30
{{- end -}}

{{/* Values that cannot work together fail the render, with what to change. */}}
{{- define "tollgate.validate" -}}
{{- if and (not .Values.cluster.enabled) (gt (int .Values.replicaCount) 1) -}}
{{- fail "replicaCount > 1 needs cluster.enabled=true: without cluster mode each pod keeps its own Durable Objects, so every replica would enforce each key's limits and budgets on its own" -}}
{{- end -}}
{{- if .Values.masterkey -}}
{{- fail "masterkey must not be set in values: create a Secret and name it in masterkeySecretName / masterkeySecretKey" -}}
{{- end -}}
{{- if .Values.cluster.enabled -}}
{{- if not .Values.cluster.bucket.name -}}
{{- fail "cluster.enabled needs cluster.bucket.name (s3://bucket/prefix or gs://bucket/prefix)" -}}
{{- end -}}
{{- if not (or (hasPrefix "s3://" .Values.cluster.bucket.name) (hasPrefix "gs://" .Values.cluster.bucket.name)) -}}
{{- fail "cluster.bucket.name must start with s3:// or gs://" -}}
{{- end -}}
{{- if not .Values.cluster.keySecret.name -}}
{{- fail "cluster.enabled needs cluster.keySecret.name (a Secret with at least 32 random bytes)" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.redis.enabled (not .Values.redis.host) (not .Values.redis.urlSecret.name) -}}
{{- fail "redis.enabled needs redis.host or redis.urlSecret.name" -}}
{{- end -}}
{{- if not (has .Values.lifecycle.preStopMode (list "exec" "sleepAction")) -}}
{{- fail "lifecycle.preStopMode is exec or sleepAction" -}}
{{- end -}}
{{- end -}}
