import { type KeyStore, keyView, parseNewKey } from "../../broker/keys.js";
import { SwitchyardError } from "../../core/errors.js";
import { actorOf } from "../auth/actor.js";
import { type Params, type RouteContext, sendJson } from "../context.js";
import { parseJsonBody } from "../json-body.js";

type KeyRequest = { Params: Params<"id"> };

/** `/v1/keys`: create (the whole key shown once), list (never a hash), revoke, self. */
export function keyRoutes({ app, keys, broker }: RouteContext & { keys: KeyStore }): void {
  app.post("/v1/keys", async (request, reply) => {
    const created = await keys.create(parseNewKey(parseJsonBody(request.body), Date.now()));
    const { key: _secret, ...view } = created; // the whole key is shown once, never recorded
    await broker.audit.keyCreated(view, actorOf(request));
    return sendJson(reply, 201, JSON.stringify(created));
  });

  app.get("/v1/keys", async (_request, reply) => {
    return sendJson(reply, 200, JSON.stringify({ keys: await keys.list() }));
  });

  app.get("/v1/keys/self", async (request, reply) => {
    const principal = request.principal;
    if (principal === null)
      throw new SwitchyardError(
        "unauthenticated",
        "this router runs without auth: no key is in use",
      );
    const { id, name, scopes, expiresAt } = keyView(principal.record);
    return sendJson(reply, 200, JSON.stringify({ id, name, scopes, expiresAt }));
  });

  app.delete<KeyRequest>("/v1/keys/:id", async (request, reply) => {
    await keys.revoke(request.params.id);
    const id = request.params.id;
    await broker.audit.write("switchyard.key.revoked", id, { key: { id } }, actorOf(request));
    return reply.code(204).send();
  });
}
