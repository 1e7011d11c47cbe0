import type { Caller } from '../auth/authenticate.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import { decodeObjectId } from '../providers/object-ids.ts';
import { noSuchSkill, ownedSkill } from './skill-objects.ts';

/** What a call's id scan (proxy/call-file-ids.ts) lends the skills a call names. */
export interface SkillScan {
  found: boolean;
  /** Ids checked in this call → the provider's (for its refusals, shown with the client's again). */
  readonly seen: Map<string, string>;
  /** A 400 for a key naming a stored object the gateway gave no id for (the master key's pass). */
  stored(param: string, what: string): void;
  /** A 400 once the call has named as many ids as it may (each is a signature check). */
  counted(param: string): void;
  /** One call reaches one provider account: the skill's pins it. */
  pin(deployment: DeploymentRef, param: string): void;
}

/**
 * Anthropic's `container: {skills: [...]}` of a /v1/messages call (a chat body's `container`, or a Responses body's bridged to Anthropic): a `custom`
 * skill named by the caller's own gateway id (routes/skills.ts) goes as the provider's id, and pins the call to
 * the skill's Anthropic account; another owner's or a forged gateway id is the 404 of an unknown skill, a
 * provider's raw id a key's 400 (the master key's passes). Anthropic's prebuilt skills (`type: "anthropic"`,
 * `xlsx`, ...) are nobody's and pass as they are; a `skill_` id is checked as custom whatever its `type`. The container, copied only when a skill id changes.
 */
export function containerSkills(container: Record<string, unknown>, scan: SkillScan, caller: Caller, catalog: ModelCatalog, idKey: string): Record<string, unknown> {
  const skills = container.skills as unknown[];
  let out: unknown[] | undefined;
  skills.forEach((skill, i) => {
    if (typeof skill !== 'object' || skill === null) return;
    const { type, skill_id: id } = skill as { type?: unknown; skill_id?: unknown };
    // A prebuilt skill's id is a short name (`xlsx`, `pdf`); a `skill_` one is a custom skill whatever its `type` says.
    if (typeof id !== 'string' || (type === 'anthropic' && !id.startsWith('skill_'))) return;
    const param = `container.skills.${i}.skill_id`;
    scan.found = true;
    if (!decodeObjectId('skill', id)) {
      scan.stored(param, 'a custom skill the provider stores (not one the gateway gave out)');
      return;
    }
    let upstream = scan.seen.get(id);
    if (upstream === undefined) {
      scan.counted(param);
      const owned = ownedSkill(caller, catalog, idKey, id);
      if (!owned) throw noSuchSkill(id, param);
      scan.pin(owned.deployment, param);
      scan.seen.set(id, (upstream = owned.upstreamId));
    }
    (out ??= skills.slice())[i] = { ...(skill as Record<string, unknown>), skill_id: upstream };
  });
  return out ? { ...container, skills: out } : container;
}
