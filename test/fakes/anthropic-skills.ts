/**
 * Anthropic's Skills API (`/v1/skills...`, beta `skills-2025-10-02`) for the fake Anthropic: skills and their
 * versions kept per API key (one key, one account), Anthropic's prebuilt `xlsx` in every account (read by its id
 * too, with one version; a list shows both whatever `source` asks, so a test sees the gateway's own filtering), and its
 * refusals: no beta header, no SKILL.md at the root of the upload's folder, an unknown skill or version.
 */
import type { ServerResponse } from 'node:http';
import { fakeId } from './openai-format.ts';
import type { RecordedRequest } from './upstream.ts';

export interface FakeSkill {
  id: string;
  account: string;
  display_title: string | null;
  files: { name: string; text: string }[];
  versions: Map<string, Record<string, unknown>>;
  created_at: string;
}

export type SkillStore = Map<string, FakeSkill>;

const PREBUILT = { type: 'skill', id: 'xlsx', display_title: 'Excel', latest_version: '20251013', source: 'anthropic', created_at: '2025-10-02T00:00:00Z', updated_at: '2025-10-02T00:00:00Z' };

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': fakeId('req_') });
  res.end(JSON.stringify(body));
};
const refuse = (res: ServerResponse, status: number, type: string, message: string) => send(res, status, { type: 'error', error: { type, message } });

function shown(skill: FakeSkill): Record<string, unknown> {
  const latest = [...skill.versions.keys()].at(-1) ?? null;
  return { type: 'skill', id: skill.id, display_title: skill.display_title, latest_version: latest, source: 'custom', created_at: skill.created_at, updated_at: skill.created_at };
}

/** The files of an upload (`files[]` parts), or a refusal's message. */
async function uploaded(request: RecordedRequest): Promise<{ files: { name: string; text: string }[]; title: string | null } | string> {
  const form = await new Response(request.rawBody, { headers: { 'content-type': request.headers['content-type'] ?? '' } }).formData().catch(() => undefined);
  if (!form) return 'Request body must be multipart/form-data';
  const files: { name: string; text: string }[] = [];
  for (const [name, value] of form) {
    if (name !== 'files[]' && name !== 'files') continue;
    if (typeof value === 'string') return 'files must be files';
    files.push({ name: value.name, text: await value.text() });
  }
  const top = new Set(files.map((f) => f.name.split('/')[0]));
  if (!files.some((f) => /^[^/]+\/SKILL\.md$/.test(f.name)) || top.size !== 1) return 'SKILL.md file must be exactly in the top-level folder.';
  const title = form.get('display_title');
  return { files, title: typeof title === 'string' ? title : null };
}

function newVersion(skill: FakeSkill, files: { name: string }[]): Record<string, unknown> {
  const version = String(1759178010641129 + skill.versions.size);
  const made = { type: 'skill_version', id: fakeId('skillver_'), skill_id: skill.id, version, name: files[0]!.name.split('/')[0], description: 'fake', directory: files[0]!.name.split('/')[0], created_at: new Date().toISOString() };
  skill.versions.set(version, made);
  return made;
}

/** Answers a request under `/v1/skills` as Anthropic would. */
export async function answerSkills(store: SkillStore, request: RecordedRequest, res: ServerResponse): Promise<void> {
  const account = request.headers['x-api-key'] ?? '';
  if (!(request.headers['anthropic-beta'] ?? '').split(',').map((b) => b.trim()).includes('skills-2025-10-02')) {
    return refuse(res, 400, 'invalid_request_error', 'The Skills API is in beta: send anthropic-beta: skills-2025-10-02');
  }
  const [, , , id, versions, version, content] = request.path.split('/');
  if (!id) {
    if (request.method === 'POST') {
      const upload = await uploaded(request);
      if (typeof upload === 'string') return refuse(res, 400, 'invalid_request_error', upload);
      const skill: FakeSkill = { id: fakeId('skill_01'), account, display_title: upload.title, files: upload.files, versions: new Map(), created_at: new Date().toISOString() };
      newVersion(skill, upload.files);
      store.set(skill.id, skill);
      return send(res, 200, shown(skill));
    }
    // Every skill of the account whatever `source` asks: what a key is shown is the gateway's own filtering.
    const custom = [...store.values()].filter((s) => s.account === account).map(shown);
    const data = [...custom, PREBUILT];
    return send(res, 200, { data, has_more: false, next_page: null });
  }
  // The prebuilt skill read by its id, as any account reads it (it is nobody's to change).
  if (id === PREBUILT.id && request.method === 'GET') {
    const made = { type: 'skill_version', id: 'skillver_xlsx', skill_id: PREBUILT.id, version: PREBUILT.latest_version, name: 'xlsx', description: 'Excel files', directory: 'xlsx', created_at: PREBUILT.created_at };
    if (!versions) return send(res, 200, PREBUILT);
    if (!version) return send(res, 200, { data: [made], has_more: false, next_page: null });
    return version === made.version && !content ? send(res, 200, made) : refuse(res, 404, 'not_found_error', `Version not found: ${version}`);
  }
  const skill = store.get(id);
  if (!skill || skill.account !== account) return refuse(res, 404, 'not_found_error', `Skill not found: ${id}`);
  if (!versions) {
    if (request.method === 'DELETE') {
      store.delete(id);
      return send(res, 200, { id, type: 'skill_deleted' });
    }
    return send(res, 200, shown(skill));
  }
  if (!version) {
    if (request.method === 'POST') {
      const upload = await uploaded(request);
      if (typeof upload === 'string') return refuse(res, 400, 'invalid_request_error', upload);
      return send(res, 200, newVersion(skill, upload.files));
    }
    return send(res, 200, { data: [...skill.versions.values()], has_more: false, next_page: null });
  }
  const found = skill.versions.get(version);
  if (!found) return refuse(res, 404, 'not_found_error', `Version not found: ${version}`);
  if (content) {
    res.writeHead(200, { 'content-type': 'application/zip' });
    res.end(`PK-fake:${skill.files.map((f) => f.name).join(',')}`);
    return;
  }
  if (request.method === 'DELETE') {
    skill.versions.delete(version);
    return send(res, 200, { id: version, type: 'skill_version_deleted' });
  }
  return send(res, 200, found);
}
