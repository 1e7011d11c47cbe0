import { describe, expect, it } from 'vitest';
import { STORED_ROUTER_FIELDS } from '../config-settings/stored-sections.ts';
import { forShowing, routerFields, routerSettingsView } from './fields.ts';

describe('routerFields', () => {
  it('defines every router setting the database stores, LiteLLM\'s first in its order, with no values', () => {
    const { fields, routing_strategy_descriptions: descriptions } = routerFields();
    expect(fields.map((f) => f.field_name).sort()).toEqual(Object.keys(STORED_ROUTER_FIELDS).sort());
    expect(fields.slice(0, 3).map((f) => f.field_name)).toEqual(['routing_strategy', 'routing_strategy_args', 'num_retries']);
    expect(fields.every((f) => f.field_value === null)).toBe(true);
    const strategy = fields.find((f) => f.field_name === 'routing_strategy')!;
    expect(strategy).toMatchObject({ field_type: 'String', field_default: 'simple-shuffle', ui_field_name: 'Routing Strategy' });
    expect(Object.keys(descriptions).sort()).toEqual([...strategy.options!].sort());
    expect(fields.find((f) => f.field_name === 'retry_policy')).toMatchObject({ field_type: 'Dictionary', options: null, link: null });
    expect(fields.find((f) => f.field_name === 'fallbacks')).toMatchObject({ field_type: 'List', field_default: [] });
    expect(fields.find((f) => f.field_name === 'num_retries')).toMatchObject({ ui_field_name: 'Number of Retries', field_type: 'Integer' });
  });

  it('offers no setting /config/update refuses: config.yaml-only ones, secrets among them', () => {
    const names = routerFields().fields.map((f) => f.field_name);
    for (const name of ['redis_password', 'redis_host', 'provider_budget_config', 'default_litellm_params', 'enable_pre_call_checks']) expect(names).not.toContain(name);
  });
});

describe('routerSettingsView', () => {
  it('gives each field its value in effect and current_values the fields set, leaving out settings it does not list', () => {
    const view = routerSettingsView({ routing_strategy: 'least-busy', num_retries: 3, fallbacks: [{ a: ['b'] }], redis_password: 'hunter2-secret', provider_budget_config: {} });
    expect(view.current_values).toEqual({ routing_strategy: 'least-busy', num_retries: 3, fallbacks: [{ a: ['b'] }] });
    expect(view.fields.find((f) => f.field_name === 'num_retries')?.field_value).toBe(3);
    expect(view.fields.find((f) => f.field_name === 'timeout')?.field_value).toBeNull();
    expect(JSON.stringify(view)).not.toContain('hunter2-secret');
  });

  it('shows of routing_strategy_args only what the gateway acts on (config.yaml\'s others may hold resolved secrets)', () => {
    const view = routerSettingsView(forShowing({ routing_strategy_args: { lowest_latency_buffer: 0.3, redis_url: 'redis://:s3cret-args@h' } }));
    expect(view.current_values).toEqual({ routing_strategy_args: { lowest_latency_buffer: 0.3 } });
    expect(view.fields.find((f) => f.field_name === 'routing_strategy_args')?.field_value).toEqual({ lowest_latency_buffer: 0.3 });
    const none = routerSettingsView(forShowing({ routing_strategy_args: { ttl: 60 } }));
    expect(none.current_values).toEqual({});
    expect(JSON.stringify([view, none])).not.toMatch(/s3cret-args|redis_url|"ttl"/);
  });
});
