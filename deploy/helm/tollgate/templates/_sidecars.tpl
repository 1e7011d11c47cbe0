{{/*
The pod's sidecars, from the tools image, each bound to 127.0.0.1: the Postgres WebSocket proxy
and the Upstash REST bridge. Called with (dict "root" $ "native" bool): as native sidecars (init
containers that keep running, started before workerd and stopped after it) or as plain containers
that sleep in preStop until the grace period ends, so that they outlive workerd either way.
*/}}
{{- define "tollgate.sidecars" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- if $v.db.wsproxy.enabled }}
- name: wsproxy
  image: {{ include "tollgate.toolsImage" $root }}
  imagePullPolicy: {{ $v.toolsImage.pullPolicy }}
  {{- if .native }}
  restartPolicy: Always
  {{- end }}
  command:
    {{- toYaml $v.db.wsproxy.command | nindent 4 }}
  args: ["--host", "127.0.0.1", "--port", {{ $v.db.wsproxy.port | quote }}]
  env:
    # Relays only to DATABASE_URL's host:port.
    {{- include "tollgate.databaseUrlEnv" $root | nindent 4 }}
  {{- include "tollgate.sidecarCommon" (dict "root" $root "native" .native "port" $v.db.wsproxy.port "resources" $v.db.wsproxy.resources) }}
{{- end }}
{{- if $v.redis.enabled }}
- name: redis-bridge
  image: {{ include "tollgate.toolsImage" $root }}
  imagePullPolicy: {{ $v.toolsImage.pullPolicy }}
  {{- if .native }}
  restartPolicy: Always
  {{- end }}
  command:
    {{- toYaml $v.redis.bridge.command | nindent 4 }}
  args: ["--host", "127.0.0.1", "--port", {{ $v.redis.bridge.port | quote }}]
  env:
    {{- if $v.redis.urlSecret.name }}
    - name: REDIS_URL
      valueFrom:
        secretKeyRef:
          name: {{ $v.redis.urlSecret.name }}
          key: {{ $v.redis.urlSecret.key }}
    {{- else if $v.redis.passwordSecret.name }}
    - name: REDIS_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ $v.redis.passwordSecret.name }}
          key: {{ $v.redis.passwordSecret.key }}
    - name: REDIS_URL
      value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:%v" $v.redis.host $v.redis.port | quote }}
    {{- else }}
    - name: REDIS_URL
      value: {{ printf "redis://%s:%v" $v.redis.host $v.redis.port | quote }}
    {{- end }}
    - name: UPSTASH_REDIS_REST_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ include "tollgate.redisBridgeTokenSecret" $root }}
          key: {{ $v.redis.bridge.tokenSecret.key }}
  {{- include "tollgate.sidecarCommon" (dict "root" $root "native" .native "port" $v.redis.bridge.port "resources" $v.redis.bridge.resources) }}
{{- end }}
{{- end -}}

{{- define "tollgate.sidecarCommon" -}}
{{- $v := .root.Values }}
  {{- if .native }}
  startupProbe:
    {{- include "tollgate.loopbackProbe" .port | nindent 4 }}
  {{- else }}
  lifecycle:
    preStop:
      exec:
        # Outlive workerd: the pod's grace period ends this container.
        command: ["sleep", {{ $v.terminationGracePeriodSeconds | quote }}]
  {{- end }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end -}}
