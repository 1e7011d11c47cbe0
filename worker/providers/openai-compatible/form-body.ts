function appendField(form: FormData, name: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (value instanceof File) form.append(name, value, value.name || 'audio');
  else if (Array.isArray(value)) for (const item of value) appendField(form, `${name}[]`, item);
  else if (typeof value === 'object') for (const [key, inner] of Object.entries(value)) appendField(form, `${name}[${key}]`, inner);
  else form.append(name, String(value));
}

/** A transcription's fields as the form its provider takes: files as files, lists as `name[]`, objects as `name[key]`. */
export function formBody(fields: Record<string, unknown>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    appendField(form, name, value);
  }
  return form;
}
