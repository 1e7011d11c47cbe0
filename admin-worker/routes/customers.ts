import { Hono } from 'hono';
import type { z } from 'zod';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { customerInfo, deleteCustomers, listCustomers, setCustomersBlocked } from './customers/manage.ts';
import { customerIdsBody, customerInfoQuery, newCustomerBody, updateCustomerBody } from './customers/schemas.ts';
import { newCustomer, updateCustomer } from './customers/write.ts';

/** The customers routes of the management API (LiteLLM-compatible shapes). */
export const customersRoutes = new Hono<AdminBindings>();

type Handler = (c: AdminContext) => Promise<Response>;
const routes: { method: 'get' | 'post'; name: string; summary: string; handler: Handler; body?: z.ZodType; query?: z.ZodType }[] = [
  { method: 'post', name: 'new', summary: 'Create a customer (end user), with a budget or a link to one', handler: newCustomer, body: newCustomerBody },
  { method: 'post', name: 'update', summary: 'Update a customer (only the given fields; null clears)', handler: updateCustomer, body: updateCustomerBody },
  { method: 'post', name: 'delete', summary: 'Delete customers', handler: deleteCustomers, body: customerIdsBody },
  { method: 'post', name: 'block', summary: 'Reject requests naming these customers', handler: (c) => setCustomersBlocked(c, true), body: customerIdsBody },
  { method: 'post', name: 'unblock', summary: 'Accept requests naming these customers again', handler: (c) => setCustomersBlocked(c, false), body: customerIdsBody },
  { method: 'get', name: 'info', summary: 'A customer with its budget', handler: customerInfo, query: customerInfoQuery },
  { method: 'get', name: 'list', summary: 'Every customer with its budget', handler: listCustomers },
];

// `/end_user/*` is LiteLLM's older name for the same routes, still served (and not documented) there.
for (const route of routes) {
  describeRoute({ method: route.method, path: `/customer/${route.name}`, summary: route.summary, tag: 'Customer Management', body: route.body, query: route.query });
  for (const prefix of ['/customer', '/end_user']) customersRoutes[route.method](`${prefix}/${route.name}`, route.handler);
}
