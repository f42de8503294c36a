import { z } from 'zod';

// A write made with an API key, on topic spindle.gateway.audit.v1 keyed by key id: who (the key's
// id and name), what (method, route and the status answered), from where (the client's address
// and the listener it came in on), and the request's correlation id (its events carry the same).
// Plain JSON data, like heartbeats: no request body, no secret.
export const auditRecordSchema = z.object({
  at: z.iso.datetime({ offset: true }),
  keyId: z.string(),
  keyName: z.string(),
  method: z.string(),
  path: z.string(),
  status: z.number().int(),
  address: z.string(),
  listener: z.string(),
  correlationId: z.string().optional(),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;
